export { sumDwords } from '../words/sum.js';
export { checkBlob, type ExtendedSignature, examineBlobAt, type MicrocodeBlob } from './blob.js';
export { type BuildMicrocodeOptions, buildMicrocode, concatBlobs } from './builder.js';
export {
  extTableOffset,
  fixChecksums,
  fixExtSignatureChecksums,
  fixExtTableChecksum,
  fixMainChecksum,
  flipDword,
  setDword,
  truncate,
  withHeaderField,
} from './corrupt.js';
export { decodeBcdDate, encodeBcdDate } from './date.js';
export {
  FORMAT_ERROR_KINDS,
  type FormatErrorKind,
  kernelMessageFor,
  MicrocodeFormatError,
} from './errors.js';
export {
  effectiveDataSize,
  effectiveTotalSize,
  HEADER_FIELD_OFFSETS,
  HEADER_SIZE,
  type HeaderField,
  LEGACY_DATA_SIZE,
  LEGACY_TOTAL_SIZE,
  type MicrocodeHeader,
  parseHeader,
} from './header.js';
export { hex } from './hex.js';
export {
  INSPECT_SCHEMA,
  type InspectBlob,
  type InspectExtendedSignature,
  type InspectFile,
  type InspectFileError,
  type InspectMatch,
  type InspectReport,
  inspectFile,
  inspectReport,
} from './inspect-report.js';
export { renderInspectTable } from './inspect-table.js';
export { EXT_SIGNATURE_SIZE, EXT_TABLE_HEADER_SIZE, sanityCheck } from './sanity-check.js';
export { type FileScan, scanFile } from './scan.js';
export {
  type LateLoadCpu,
  type LateLoadOutcome,
  type LateLoadSelection,
  selectForLateLoad,
} from './select.js';
export {
  type CpuSignature,
  cpuPlatformFlag,
  decodeSignature,
  type FamilyModelStepping,
  fmsFileName,
  parseFmsFileName,
  platformIdFromMsr,
  signatureMatches,
} from './signature.js';
