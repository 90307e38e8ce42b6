import { join } from 'node:path';
import type { FirmwareSource } from '../index.js';
import { InputFileError, MICROCODE_FILE_MAX_BYTES, readInputFile } from './read-input.js';

/** A firmware folder read lazily, as request_firmware() would. */
export class FolderFirmware implements FirmwareSource {
  constructor(readonly folder: string) {}

  get description(): string {
    return this.folder;
  }

  /** The file `intel-ucode/06-ad-01` is read from: `<folder>/06-ad-01` (the folder is .../intel-ucode). */
  pathFor(name: string): string {
    return join(this.folder, name.replace(/^intel-ucode\//, ''));
  }

  /**
   * A missing file is "no firmware" (undefined), as for the kernel. A file that is there but
   * cannot be used (a FIFO or device in its place, over 64 MiB, unreadable) stops the command
   * with a one-line usage error naming it, rather than passing for a missing file.
   */
  request(name: string): Uint8Array | undefined {
    const file = this.pathFor(name);
    try {
      return readInputFile(file, { what: 'firmware file', maxBytes: MICROCODE_FILE_MAX_BYTES });
    } catch (err) {
      if (err instanceof InputFileError && (err.code === 'ENOENT' || err.code === 'ENOTDIR'))
        return undefined;
      throw err;
    }
  }
}
