import {
  checkBlob,
  inspectFile,
  MicrocodeFormatError,
  sanityCheck,
  scanFile,
  selectForLateLoad,
} from '../../src/format/index.js';
import { simulate } from '../../src/sim/simulate.js';
import { checksumsHold, type OracleScan, oracleScan, oracleSelect, rejectionMessage } from './oracle.js';

export interface CaseOptions {
  /** Also run the late-load selection, the inspect report and the single-blob checks. */
  deep?: boolean;
  /** Also run a whole late load with the bytes as the firmware file. */
  simulate?: boolean;
}

const describe = (err: unknown): string =>
  err instanceof Error ? `${err.name}: ${err.message}` : String(err);

/**
 * Every way a user's microcode file reaches the library, on one input. Returns
 * what went wrong, or undefined. Nothing may throw; every verdict must be the
 * independent oracle's (the kernel's, or the documented refusal where we refuse
 * more); no blob with a bad checksum may be accepted. `oracle` may be passed in
 * when the caller already has it.
 */
export function checkFormatCase(
  file: Uint8Array,
  opts: CaseOptions = {},
  oracle: OracleScan = oracleScan(file),
): string | undefined {
  let scan: ReturnType<typeof scanFile>;
  try {
    scan = scanFile(file);
  } catch (err) {
    return `scanFile threw ${describe(err)}`;
  }
  if (scan.blobs.length !== oracle.blobs.length) {
    return `scanFile accepted ${scan.blobs.length} blobs, the oracle ${oracle.blobs.length}`;
  }
  for (const [i, blob] of scan.blobs.entries()) {
    const o = oracle.blobs[i]!;
    if (blob.offset !== o.offset || blob.totalSize !== o.totalSize || blob.dataSize !== o.dataSize) {
      return `blob ${i}: at ${blob.offset}, ${blob.totalSize}/${blob.dataSize} bytes; the oracle says ${o.offset}, ${o.totalSize}/${o.dataSize}`;
    }
    if (blob.bytes.length !== blob.totalSize)
      return `blob ${i}: ${blob.bytes.length} bytes for a total size of ${blob.totalSize}`;
    if (blob.extendedSignatures.length !== o.ext.length)
      return `blob ${i}: ${blob.extendedSignatures.length} extended signatures, the oracle ${o.ext.length}`;
    if (!checksumsHold(file, blob.offset, blob.totalSize, blob.dataSize))
      return `blob ${i} accepted with a bad checksum`;
  }
  if (!scan.error !== !oracle.error) {
    return `scanFile error ${scan.error?.kind ?? 'none'}, the oracle ${oracle.error?.kind ?? 'none'}`;
  }
  if (scan.error && oracle.error) {
    if (!(scan.error instanceof MicrocodeFormatError))
      return `scanFile returned an untyped error: ${describe(scan.error)}`;
    if (scan.error.kind !== oracle.error.kind || scan.error.offset !== oracle.error.offset) {
      return `scanFile says ${scan.error.kind} at ${scan.error.offset}, the oracle ${oracle.error.kind} at ${oracle.error.offset}`;
    }
    const message = rejectionMessage(file, oracle);
    if (scan.error.kernelMessage !== message) {
      return `kernel message '${scan.error.kernelMessage}' for ${scan.error.kind}, the oracle '${message}'`;
    }
  }
  if (opts.deep) {
    const deep = checkDeep(file, oracle);
    if (deep) return deep;
  }
  if (opts.simulate) return checkSimulate(file, oracle);
  return undefined;
}

function checkDeep(file: Uint8Array, oracle: OracleScan): string | undefined {
  const first = oracle.blobs[0];
  const cpu = {
    signature: first?.signature ?? 0xa06d1,
    // The lowest platform bit the blob names: a CPU it applies to.
    platformFlags: (first ? first.processorFlags & -first.processorFlags : 0) >>> 0 || 1,
    revision: first ? (first.revision - 1) >>> 0 : 0,
  };
  const rejection = rejectionMessage(file, oracle);
  for (const forceMinrev of [false, true]) {
    try {
      const sel = selectForLateLoad(file, cpu, { forceMinrev });
      const want = oracleSelect(oracle, cpu, forceMinrev, rejection);
      if (sel.outcome !== want.outcome || sel.blob?.offset !== want.offset) {
        return `selectForLateLoad (forceMinrev ${forceMinrev}) chose ${sel.outcome} at ${sel.blob?.offset}, the oracle ${want.outcome} at ${want.offset}`;
      }
      if (JSON.stringify(sel.messages) !== JSON.stringify(want.messages)) {
        return `selectForLateLoad (forceMinrev ${forceMinrev}) logged ${JSON.stringify(sel.messages)}, the oracle ${JSON.stringify(want.messages)}`;
      }
      if (sel.blob) {
        const o = oracle.blobs.find((b) => b.offset === sel.blob!.offset)!;
        if (!checksumsHold(file, o.offset, o.totalSize, o.dataSize))
          return 'selectForLateLoad chose a blob with a bad checksum';
      }
    } catch (err) {
      return `selectForLateLoad threw ${describe(err)}`;
    }
  }
  try {
    inspectFile('fuzz', file, null);
    inspectFile('fuzz', file, { signature: cpu.signature, platformId: 0 });
  } catch (err) {
    return `inspectFile threw ${describe(err)}`;
  }
  // One blob checked alone: the first blob's verdict.
  let alone: MicrocodeFormatError | undefined;
  try {
    alone = sanityCheck(file);
  } catch (err) {
    return `sanityCheck threw ${describe(err)}`;
  }
  const firstVerdict = oracle.error && oracle.error.offset === 0 ? oracle.error.kind : undefined;
  if (file.length > 0 && (alone?.kind ?? undefined) !== firstVerdict) {
    return `sanityCheck says ${alone?.kind ?? 'valid'}, the oracle ${firstVerdict ?? 'valid'} for the first blob`;
  }
  try {
    checkBlob(file, 0, 0);
  } catch (err) {
    if (!(err instanceof MicrocodeFormatError)) return `checkBlob threw an untyped ${describe(err)}`;
  }
  return undefined;
}

/** A late load with the bytes as the CPU's firmware file: a bad file must never reach the CPUs. */
function checkSimulate(file: Uint8Array, oracle: OracleScan): string | undefined {
  const first = oracle.blobs[0];
  const signature =
    first?.signature ??
    (file.length >= 16 ? new DataView(file.buffer, file.byteOffset + 12, 4).getUint32(0, true) : 0xa06d1);
  const flags = first?.processorFlags ?? 1;
  const platformId = flags === 0 ? 0 : Math.min(7, 31 - Math.clz32(flags & -flags));
  const initialRevision = first ? Math.max(0, first.revision - 1) >>> 0 : 1;
  let outcome: string;
  try {
    const r = simulate({
      machine: {
        name: 'fuzz',
        packages: 1,
        coresPerPackage: 2,
        threadsPerCore: 1,
        signature,
        platformId,
        initialRevision,
        staging: { archCapMcuEnum: true, mcuStaging: true },
      },
      firmware: file,
      trace: false,
    });
    outcome = r.outcome;
    if (
      r.image &&
      !oracle.blobs.some((b) => b.revision === r.image!.revision && b.totalSize === r.image!.totalSize)
    ) {
      return `simulate() loaded an image the oracle does not accept (revision 0x${r.image.revision.toString(16)})`;
    }
  } catch (err) {
    return `simulate() threw ${describe(err)}`;
  }
  if (oracle.error && outcome !== 'bad-firmware')
    return `simulate() outcome ${outcome} for a file the oracle rejects (${oracle.error.kind})`;
  if (!oracle.error && outcome === 'bad-firmware') return 'simulate() rejected a file the oracle accepts';
  return undefined;
}
