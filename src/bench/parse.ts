/** Benchmark 4 (in-process part): every file of a microcode folder walked and checked. */
import { scanFile } from '../format/index.js';

export interface ParseTotals {
  files: number;
  bytes: number;
  blobs: number;
  /** Files the kernel would reject (a blob failed a check). */
  rejectedFiles: number;
  /** Every blob is a view of its file's buffer at its own offset: nothing was copied. */
  zeroCopy: boolean;
}

/** scanFile() on every file: the header walk, the size checks and all checksums of every blob. */
export function parseAll(files: readonly Uint8Array[]): ParseTotals {
  let bytes = 0;
  let blobs = 0;
  let rejectedFiles = 0;
  let zeroCopy = true;
  for (const file of files) {
    bytes += file.length;
    const scan = scanFile(file);
    blobs += scan.blobs.length;
    if (scan.error) rejectedFiles++;
    for (const b of scan.blobs) {
      if (b.bytes.buffer !== file.buffer || b.bytes.byteOffset !== file.byteOffset + b.offset)
        zeroCopy = false;
    }
  }
  return { files: files.length, bytes, blobs, rejectedFiles, zeroCopy };
}
