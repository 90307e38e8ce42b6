import { examineBlobAt, type MicrocodeBlob } from './blob.js';
import { MicrocodeFormatError } from './errors.js';

export interface FileScan {
  /** Blobs that passed, in file order, up to the first failure. */
  blobs: MicrocodeBlob[];
  /** The first failure; the kernel rejects the whole file because of it. */
  error?: MicrocodeFormatError;
}

/**
 * Walks a microcode file blob after blob like Linux parse_microcode_blobs(). Never throws: the
 * input may be anything a user put in the firmware folder.
 */
export function scanFile(file: Uint8Array): FileScan {
  const blobs: MicrocodeBlob[] = [];
  let offset = 0;
  while (offset < file.length) {
    const result = examineBlobAt(file, offset, blobs.length);
    if (result instanceof MicrocodeFormatError) return { blobs, error: result };
    blobs.push(result);
    offset += result.totalSize;
  }
  return { blobs };
}
