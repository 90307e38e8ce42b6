/** One name per check of the kernel's file walk and sanity check, in the order they run. */
export const FORMAT_ERROR_KINDS = [
  'truncated-header',
  'totalsize-too-small',
  'truncated-file',
  'bad-size',
  'bad-header-version',
  'ext-table-truncated',
  'ext-table-size-mismatch',
  'ext-table-checksum',
  'data-checksum',
  'ext-signature-checksum',
] as const;

export type FormatErrorKind = (typeof FORMAT_ERROR_KINDS)[number];

const fixedMessages: Readonly<Record<Exclude<FormatErrorKind, 'bad-header-version'>, string>> = {
  'truncated-header': 'error! Truncated or inaccessible header in microcode data file',
  'totalsize-too-small': 'error! Bad data in microcode data file (totalsize too small)',
  'truncated-file': 'error! Bad data in microcode data file (truncated file?)',
  'bad-size': 'Error: bad microcode data file size.',
  'ext-table-truncated': 'Error: truncated extended signature table.',
  'ext-table-size-mismatch': 'Error: extended signature table size mismatch.',
  'ext-table-checksum': 'Bad extended signature table checksum, aborting.',
  'data-checksum': 'Bad microcode data checksum, aborting.',
  'ext-signature-checksum': 'Bad extended signature checksum, aborting.',
};

/** The kernel's log line for a failed check, without the "microcode: " prefix. */
export function kernelMessageFor(kind: FormatErrorKind, headerVersion = 0): string {
  if (kind === 'bad-header-version') {
    // The kernel prints the field with %d, so values >= 2^31 come out negative.
    return `Error: invalid/unknown microcode update format. Header type ${headerVersion | 0}`;
  }
  return fixedMessages[kind];
}

/** A blob the kernel would reject; rejecting one blob rejects its whole file. */
export class MicrocodeFormatError extends Error {
  override name = 'MicrocodeFormatError';
  readonly kind: FormatErrorKind;
  /** Exactly what the kernel logs, without prefix or newline. */
  readonly kernelMessage: string;
  /** Byte offset of the failing blob in its file (0 when a lone blob was checked). */
  readonly offset: number;
  /** Position of the failing blob in its file, counting from 0. */
  readonly index: number;

  constructor(
    kind: FormatErrorKind,
    options: { offset?: number; index?: number; headerVersion?: number } = {},
  ) {
    const kernelMessage = kernelMessageFor(kind, options.headerVersion);
    const offset = options.offset ?? 0;
    super(`${kernelMessage} (blob at offset 0x${offset.toString(16)})`);
    this.kind = kind;
    this.kernelMessage = kernelMessage;
    this.offset = offset;
    this.index = options.index ?? 0;
  }
}
