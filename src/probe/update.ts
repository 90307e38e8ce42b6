import type { MicrocodeBlob } from '../format/blob.js';
import { decodeBcdDate } from '../format/date.js';
import { hex } from '../format/hex.js';
import { type LateLoadSelection, selectForLateLoad } from '../format/select.js';
import { cpuPlatformFlag } from '../format/signature.js';
import type { FirmwareFile } from './firmware-search.js';

export interface BlobSummary {
  index: number;
  offset: number;
  revision: number;
  /** ISO date, or null when the header date is not a BCD date. */
  date: string | null;
  totalSize: number;
  minRequiredRevision: number;
}

/** What a late load would find in the firmware: the file, the blob, and why none when none. */
export interface UpdateFacts {
  /** `intel-ucode/06-ad-01`. */
  name: string;
  file: FirmwareFile;
  status:
    | 'new-safe'
    | 'new-unsafe'
    | 'refused-minrev'
    | 'already-current'
    | 'no-match'
    | 'no-file'
    | 'rejected';
  /** The CPU 0 revision the kernel compares with. */
  currentRevision: number;
  /** The blob the kernel would load (new-safe, new-unsafe). */
  blob: BlobSummary | null;
  /** refused-minrev: the newer blob force_minrev skips. */
  refusedBlob: BlobSummary | null;
  /** The newest blob for this CPU in the file, whatever its revision. */
  newest: BlobSummary | null;
  /** The kernel's reasons, in our words (why unsafe, why rejected, why nothing). */
  reason: string;
  /** rejected: which check failed (the kernel's own message, for the report's detail). */
  rejection: string | null;
}

export function summarizeBlob(blob: MicrocodeBlob): BlobSummary {
  return {
    index: blob.index,
    offset: blob.offset,
    revision: blob.header.revision,
    date: decodeBcdDate(blob.header.date) ?? null,
    totalSize: blob.totalSize,
    minRequiredRevision: blob.header.minRequiredRevision,
  };
}

/**
 * What the Intel driver's request_microcode_fw() would pick for CPU 0, with the kernel's own
 * selection (format.selectForLateLoad): once as the host is configured, once without
 * force_minrev to name what that rule refuses, once from revision 0 to name the file's newest.
 */
export function findUpdate(
  name: string,
  file: FirmwareFile,
  cpu: { signature: number; platformId: number; revision: number },
  opts: { forceMinrev: boolean; minrevCheck: boolean },
): UpdateFacts {
  const base = {
    name,
    file,
    currentRevision: cpu.revision,
    blob: null,
    refusedBlob: null,
    newest: null,
    rejection: null,
  };
  if (file.bytes === null) {
    return {
      ...base,
      status: 'no-file',
      reason:
        file.searched.length === 1
          ? `no ${file.searched[0]}`
          : `no ${name} in ${file.searched.map((p) => p.slice(0, -name.length - 1)).join(', ')}`,
    };
  }
  const target = {
    signature: cpu.signature,
    platformFlags: cpuPlatformFlag(cpu.platformId),
    revision: cpu.revision,
  };
  const forced = opts.forceMinrev && opts.minrevCheck;
  const selection = selectForLateLoad(file.bytes, target, { forceMinrev: forced });
  const newestSel = selectForLateLoad(file.bytes, { ...target, revision: 0 });
  const newest = newestSel.blob ? summarizeBlob(newestSel.blob) : null;
  if (selection.outcome === 'error') {
    return {
      ...base,
      newest,
      status: 'rejected',
      reason: 'the kernel rejects the whole file (a blob fails its checks); reload returns -EBADFD',
      rejection: selection.error?.kernelMessage ?? null,
    };
  }
  if (selection.outcome === 'new-safe' || selection.outcome === 'new-unsafe') {
    const blob = summarizeBlob(selection.blob!);
    const unsafeWhy = unsafeReason(selection, blob, cpu.revision, opts.minrevCheck);
    const skipped =
      forced && newest !== null && newest.revision > blob.revision
        ? `; force_minrev skips the newer ${hex(newest.revision)}`
        : '';
    return {
      ...base,
      newest,
      blob,
      status: opts.minrevCheck && selection.outcome === 'new-safe' ? 'new-safe' : 'new-unsafe',
      reason: `${unsafeWhy ?? `CPU 0 runs ${hex(cpu.revision)}, at or above the blob's minimum ${hex(blob.minRequiredRevision)}`}${skipped}`,
    };
  }
  if (forced) {
    const unforced = selectForLateLoad(file.bytes, target);
    if (unforced.blob) {
      const refused = summarizeBlob(unforced.blob);
      return {
        ...base,
        newest,
        refusedBlob: refused,
        status: 'refused-minrev',
        reason:
          refused.minRequiredRevision === 0
            ? `force_minrev skips revision ${hex(refused.revision)}: its header gives no minimum revision (min_req_ver 0)`
            : `force_minrev skips revision ${hex(refused.revision)}: it needs CPU 0 at ${hex(refused.minRequiredRevision)} or higher, CPU 0 runs ${hex(cpu.revision)}`,
      };
    }
  }
  if (newest !== null && newest.revision <= cpu.revision >>> 0) {
    return {
      ...base,
      newest,
      status: 'already-current',
      reason: `already current: the newest blob for this CPU is ${hex(newest.revision)}, CPU 0 runs ${hex(cpu.revision)}`,
    };
  }
  return {
    ...base,
    newest,
    status: 'no-match',
    reason: `the file holds no blob for signature ${hex(cpu.signature)} platform id ${cpu.platformId}`,
  };
}

function unsafeReason(
  selection: LateLoadSelection,
  blob: BlobSummary,
  revision: number,
  minrevCheck: boolean,
): string | null {
  if (!minrevCheck) return 'kernels before 6.7 have no minimum-revision check and taint on every late load';
  if (selection.outcome === 'new-safe') return null;
  if (blob.minRequiredRevision === 0) return 'the blob gives no minimum revision (min_req_ver 0)';
  return `CPU 0 runs ${hex(revision)}, below the blob's minimum ${hex(blob.minRequiredRevision)}`;
}
