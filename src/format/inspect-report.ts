import type { ExtendedSignature, MicrocodeBlob } from './blob.js';
import { decodeBcdDate } from './date.js';
import {
  effectiveDataSize,
  effectiveTotalSize,
  HEADER_SIZE,
  type MicrocodeHeader,
  parseHeader,
} from './header.js';
import { scanFile } from './scan.js';
import {
  type CpuSignature,
  cpuPlatformFlag,
  decodeSignature,
  fmsFileName,
  signatureMatches,
} from './signature.js';

// The data model behind `ucode-staging inspect`, kept free of Node APIs so a browser page can
// show the same listing. Its JSON shape is a public contract: see docs/format.md.

export const INSPECT_SCHEMA = 'ucode-staging/inspect@2';

/** --match: a CPU signature and, optionally, its platform id (0-7). */
export interface InspectMatch {
  signature: number;
  platformId: number | null;
}

export interface InspectExtendedSignature {
  signature: number;
  processorFlags: number;
  fms: string;
}

export interface InspectBlob {
  index: number;
  offset: number;
  signature: number;
  family: number;
  model: number;
  stepping: number;
  fms: string;
  platformFlags: number;
  revision: number;
  /** ISO date, or null when the header's date is not valid BCD. */
  date: string | null;
  dateRaw: number;
  dataSize: number;
  totalSize: number;
  metadataSize: number;
  minRequiredRevision: number;
  extendedSignatures: InspectExtendedSignature[];
  /** false only for the blob that made the kernel reject the file. */
  valid: boolean;
}

export interface InspectFileError {
  offset: number;
  index: number;
  kind: string;
  message: string;
}

export interface InspectFile {
  path: string;
  size: number;
  /** Blobs that passed every check, whether or not --match lists them. */
  validBlobs: number;
  blobs: InspectBlob[];
  error: InspectFileError | null;
}

export interface InspectReport {
  schema: typeof INSPECT_SCHEMA;
  match: (InspectMatch & { platformFlags: number | null }) | null;
  files: InspectFile[];
  summary: {
    files: number;
    /** Blobs that passed every check, matching or not. */
    validBlobs: number;
    /** Valid blobs in the listing: all of them, or those --match selects. */
    listedBlobs: number;
    invalidFiles: number;
  };
}

function describeHeader(
  index: number,
  offset: number,
  header: MicrocodeHeader,
  extendedSignatures: ExtendedSignature[],
  valid: boolean,
): InspectBlob {
  const { family, model, stepping } = decodeSignature(header.signature);
  return {
    index,
    offset,
    signature: header.signature,
    family,
    model,
    stepping,
    fms: fmsFileName(header.signature),
    platformFlags: header.processorFlags,
    revision: header.revision,
    date: decodeBcdDate(header.date) ?? null,
    dateRaw: header.date,
    dataSize: effectiveDataSize(header),
    totalSize: effectiveTotalSize(header),
    metadataSize: header.metadataSize,
    minRequiredRevision: header.minRequiredRevision,
    extendedSignatures: extendedSignatures.map((e) => ({
      signature: e.signature,
      processorFlags: e.processorFlags,
      fms: fmsFileName(e.signature),
    })),
    valid,
  };
}

/** Without a platform id any platform mask is accepted, as `iucode_tool -s SIG` does. */
function matchesCpu(match: InspectMatch, blob: MicrocodeBlob): boolean {
  if (match.platformId !== null) {
    const cpu: CpuSignature = {
      signature: match.signature,
      platformFlags: cpuPlatformFlag(match.platformId),
    };
    return signatureMatches(blob, cpu);
  }
  const sig = match.signature >>> 0;
  return blob.header.signature === sig || blob.extendedSignatures.some((e) => e.signature === sig);
}

/** One file's listing. The failing blob, if its header is readable, is listed with valid: false. */
export function inspectFile(path: string, bytes: Uint8Array, match: InspectMatch | null = null): InspectFile {
  const scan = scanFile(bytes);
  const blobs: InspectBlob[] = scan.blobs
    .filter((blob) => match === null || matchesCpu(match, blob))
    .map((blob) => describeHeader(blob.index, blob.offset, blob.header, blob.extendedSignatures, true));
  const { error } = scan;
  if (error && bytes.length - error.offset >= HEADER_SIZE) {
    blobs.push(describeHeader(error.index, error.offset, parseHeader(bytes, error.offset), [], false));
  }
  return {
    path,
    size: bytes.length,
    validBlobs: scan.blobs.length,
    blobs,
    error: error
      ? { offset: error.offset, index: error.index, kind: error.kind, message: error.kernelMessage }
      : null,
  };
}

export function inspectReport(files: InspectFile[], match: InspectMatch | null): InspectReport {
  return {
    schema: INSPECT_SCHEMA,
    match: match && {
      ...match,
      platformFlags: match.platformId === null ? null : cpuPlatformFlag(match.platformId),
    },
    files,
    summary: {
      files: files.length,
      validBlobs: files.reduce((n, f) => n + f.validBlobs, 0),
      listedBlobs: files.reduce((n, f) => n + f.blobs.filter((b) => b.valid).length, 0),
      invalidFiles: files.filter((f) => f.error !== null).length,
    },
  };
}
