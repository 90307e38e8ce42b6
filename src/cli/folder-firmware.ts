import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FirmwareSource } from '../kernel/firmware.js';

/** A firmware folder read lazily, as request_firmware() would. */
export class FolderFirmware implements FirmwareSource {
  constructor(readonly folder: string) {}

  get description(): string {
    return this.folder;
  }

  /** `intel-ucode/06-ad-01` is looked up as `<folder>/06-ad-01` (the folder is .../intel-ucode). */
  request(name: string): Uint8Array | undefined {
    const file = join(this.folder, name.replace(/^intel-ucode\//, ''));
    try {
      return new Uint8Array(readFileSync(file));
    } catch {
      return undefined;
    }
  }
}
