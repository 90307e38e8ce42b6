import type { MicrocodeBlob } from './blob.js';
import { examineBlobAt } from './blob.js';
import { MicrocodeFormatError } from './errors.js';
import type { MicrocodeHeader } from './header.js';
import { hex } from './hex.js';
import { type CpuSignature, signatureMatches } from './signature.js';

export interface LateLoadCpu extends CpuSignature {
  /** Revision the CPU runs now (MSR 0x8b). */
  revision: number;
}

export type LateLoadOutcome = 'new-safe' | 'new-unsafe' | 'not-found' | 'error';

export interface LateLoadSelection {
  outcome: LateLoadOutcome;
  /** The chosen blob, for 'new-safe' and 'new-unsafe'. */
  blob?: MicrocodeBlob;
  /** Kernel log lines the walk printed, in order, without the "microcode: " prefix. */
  messages: string[];
  /** Why the file was rejected, for 'error'. */
  error?: MicrocodeFormatError;
}

/**
 * Linux ucode_validate_minrev(). The comparison uses the CPU's running revision, not the best
 * candidate found so far, because that is what will be executing the update.
 */
function validateMinRevision(header: MicrocodeHeader, runningRevision: number, messages: string[]): boolean {
  if (header.minRequiredRevision === 0) {
    messages.push('Unsafe microcode update: Microcode header does not specify a required min version');
    return false;
  }
  if (runningRevision >>> 0 < header.minRequiredRevision) {
    messages.push(`Unsafe microcode update: Current revision ${hex(runningRevision >>> 0)} too old`);
    messages.push(
      `Current should be at ${hex(header.minRequiredRevision)} or higher. Use early loading instead`,
    );
    return false;
  }
  return true;
}

/**
 * Linux parse_microcode_blobs() for a late load: the newest matching blob above the CPU's
 * revision wins. Checks and selection are interleaved as in the kernel, so min-rev lines from
 * blobs before a broken one are still printed, and the broken blob still rejects the file.
 */
export function selectForLateLoad(
  file: Uint8Array,
  cpu: LateLoadCpu,
  opts: { forceMinrev?: boolean } = {},
): LateLoadSelection {
  const messages: string[] = [];
  let best: { blob: MicrocodeBlob; safe: boolean } | undefined;
  let currentRevision = cpu.revision >>> 0;
  let offset = 0;
  for (let index = 0; offset < file.length; index++) {
    const blob = examineBlobAt(file, offset, index);
    if (blob instanceof MicrocodeFormatError) {
      messages.push(blob.kernelMessage);
      return { outcome: 'error', messages, error: blob };
    }
    offset += blob.totalSize;
    if (currentRevision >= blob.header.revision) continue;
    if (!signatureMatches(blob, cpu)) continue;
    const safe = validateMinRevision(blob.header, cpu.revision, messages);
    if (opts.forceMinrev && !safe) continue;
    best = { blob, safe };
    currentRevision = blob.header.revision;
  }
  if (!best) return { outcome: 'not-found', messages };
  return { outcome: best.safe ? 'new-safe' : 'new-unsafe', blob: best.blob, messages };
}
