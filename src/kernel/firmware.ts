/**
 * request_firmware(): where the driver's `intel-ucode/FF-MM-SS` comes from.
 * The CLI reads a folder; a browser or a test passes bytes.
 */
export interface FirmwareSource {
  request(name: string): Uint8Array | undefined;
  /** For messages: the folder or file the bytes come from. */
  readonly description: string;
}

/** Firmware files held in memory, keyed by name (`intel-ucode/06-ad-01`). */
export class MemoryFirmware implements FirmwareSource {
  constructor(
    private readonly files: ReadonlyMap<string, Uint8Array>,
    readonly description = 'in-memory firmware',
  ) {}

  request(name: string): Uint8Array | undefined {
    return this.files.get(name);
  }
}
