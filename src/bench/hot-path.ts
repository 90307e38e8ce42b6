/**
 * Benchmark 1: the staging mailbox hot path, and the two loops it is compared with.
 *
 * The model case runs the driver's real doStage() (src/kernel/intel/staging.ts)
 * against a Machine through its HostPort, exactly as stage_microcode() does for
 * one package: ioremap, ABORT, then per 4 KB chunk the 4 header dwords and the
 * chunk dword by dword into WRDATA, GO, msleep(1) and the STATUS poll, the 4
 * response dwords each read and acknowledged, and iounmap. Every access goes
 * driver -> Machine.writel/readl -> MmioBus -> MailboxDevice with the cost
 * model charging the virtual clock. The machine is built outside the timed
 * region; the poll sleeps' bookkeeping (one msleep per chunk) is inside it.
 */

import { doStage, type StagingContext } from '../kernel/intel/staging.js';
import { newPackageStaging, type PackageStaging } from '../kernel/intel/staging-report.js';
import { KERNEL_POLICY } from '../kernel/policy.js';
import { KernelLog } from '../kernel/printk.js';
import { Tracer } from '../kernel/trace.js';
import { Machine } from '../platform/machine.js';
import type { MachineSpec } from '../platform/machine-spec.js';
import { MmioTraceRecorder } from '../platform/mmio-trace.js';
import { NS_PER_S } from '../time/clock.js';

/** Dwords copied one by one: the floor any dword-at-a-time model is measured against. */
export function copyDwords(src: Uint32Array, dst: Uint32Array): void {
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = src[i]!;
}

/** Request/response buffers and the device-side image for plainProtocol(), allocated once per run. */
export interface PlainProtocolState {
  words: Uint32Array;
  req: Uint32Array;
  resp: Uint32Array;
  image: Uint32Array;
  clock: { now: number };
  writes: number;
}

export function plainProtocolState(words: Uint32Array): PlainProtocolState {
  return {
    words,
    req: new Uint32Array(4 + 1024),
    resp: new Uint32Array(4),
    image: new Uint32Array(words.length),
    clock: { now: 120 * NS_PER_S },
    writes: 0,
  };
}

/**
 * The same protocol as one plain loop, no layers: per chunk, 4 header dwords
 * and the chunk dword by dword into a request buffer (each charging the clock),
 * GO copies the chunk into the image, the 4 response dwords are read and
 * acknowledged, and the whole image is checksummed at the end. What a model
 * without bus, device object or driver would cost. The chunk and the checksum
 * are functions of their own, called hundreds of times: one long loop would be
 * compiled on-stack-replaced before the code after it ever ran, and V8 would
 * then deoptimise at its end on every call (a deopt loop, as in sumWords).
 */
export function plainProtocol(s: PlainProtocolState): void {
  const { words, resp, image, clock } = s;
  const total = words.length;
  let writes = 1; // ABORT
  clock.now += 100;
  let offset = 0;
  while (offset !== 0xffff_ffff) {
    const first = offset >>> 2;
    const count = Math.min(1024, total - first);
    const n = plainChunk(s, first, count);
    clock.now += 100; // GO
    image.set(s.req.subarray(4, n), first);
    const end = first + count;
    const next = end >= total ? 0xffff_ffff : end * 4;
    resp[0] = 0x8086 | (0xb << 16);
    resp[1] = 4;
    resp[2] = next;
    resp[3] = next === 0xffff_ffff ? 1 : 2;
    clock.now = Math.ceil((clock.now + 1_000_000) / 1_000_000) * 1_000_000 + 1_000; // msleep(1), STATUS
    let check = 0;
    for (let k = 0; k < 4; k++) {
      check = (check + resp[k]!) | 0; // RDDATA read, then its acknowledgement
      clock.now += 1_100;
    }
    if (check === 0) throw new Error('plainProtocol: empty response');
    writes += n + 1 + 4;
    offset = resp[2]!;
  }
  let sum = 0;
  for (let at = 0; at < total; at += 4096) sum = (sum + plainSum(image, at, Math.min(total, at + 4096))) | 0;
  if (sum !== 0) throw new Error('plainProtocol: image checksum is not 0');
  s.writes = writes;
}

/** One request: both headers and `count` dwords from `first`, each charging the clock; returns the dwords written. */
function plainChunk(s: PlainProtocolState, first: number, count: number): number {
  const { words, req, clock } = s;
  let n = 0;
  req[n++] = 0x8086 | (0xb << 16);
  clock.now += 100;
  req[n++] = 4 + count;
  clock.now += 100;
  req[n++] = 3;
  clock.now += 100;
  req[n++] = 0;
  clock.now += 100;
  const end = first + count;
  for (let i = first; i < end; i++) {
    req[n++] = words[i]!;
    clock.now += 100;
  }
  return n;
}

function plainSum(words: Uint32Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum = (sum + words[i]!) | 0;
  return sum;
}

export interface StagingRun {
  machine: Machine;
  ctx: StagingContext;
  record: PackageStaging;
  mailboxPa: number;
  errno: number;
}

/**
 * A fresh machine (the gnr-2s preset by default) at the late load's virtual time,
 * and the driver's staging context for `words`, ready for runStaging().
 */
export function stagingRun(spec: MachineSpec, words: Uint32Array, trace: boolean): StagingRun {
  const machine = new Machine(spec, { seed: 1, startNs: 120 * NS_PER_S });
  if (trace) machine.bus.recorder = new MmioTraceRecorder();
  const ctx: StagingContext = {
    port: machine,
    log: new KernelLog(machine),
    tracer: new Tracer(false),
    policy: KERNEL_POLICY,
    words,
    ucodeLen: words.length * 4,
  };
  const record = newPackageStaging(0, 0, machine.mailboxAddress(0), machine.now());
  return { machine, ctx, record, mailboxPa: record.mailboxPa, errno: 0 };
}

/**
 * The same run again on the same machine, as the kernel re-stages a package
 * (interleaved numbering): ABORT resets the device, which reuses its buffer.
 */
export function restage(r: StagingRun): StagingRun {
  const rec = r.record;
  rec.errno = 0;
  rec.bytesSent = 0;
  rec.chunks = 0;
  rec.resends = 0;
  rec.polls = 0;
  rec.dwordsWritten = 0;
  rec.startNs = r.machine.now();
  r.errno = 0;
  return r;
}

/** The timed part: stage the image through package 0's mailbox. */
export function runStaging(r: StagingRun): void {
  r.errno = doStage(r.ctx, r.mailboxPa, r.record);
}

/** MMIO accesses one staging made, from the driver's own counters. */
export interface MmioCounts {
  /** Every writel: ABORT, header and chunk dwords, GO, response acknowledgements. */
  writes: number;
  /** Of which WRDATA dwords (4 header dwords + the chunk, per transaction). */
  wrdata: number;
  /** Every readl: STATUS polls and response dwords. */
  reads: number;
}

export function mmioCounts(rec: PackageStaging): MmioCounts {
  return {
    writes: 1 + rec.dwordsWritten + rec.chunks * (1 + 4),
    wrdata: rec.dwordsWritten,
    reads: rec.polls + rec.chunks * 4,
  };
}

/** Throws unless the run staged the whole image, once, with nothing refused. */
export function checkStaging(r: StagingRun): void {
  const device = r.machine.devices[0];
  if (r.errno !== 0) throw new Error(`staging failed: errno ${r.errno}`);
  if (!device || device.misuse.length > 0) throw new Error('the device flagged a misuse');
  if (r.record.bytesSent !== r.ctx.ucodeLen || r.record.resends !== 0) throw new Error('unexpected resends');
  if (device.stagedImage()?.length !== r.ctx.ucodeLen) throw new Error('the device holds no staged copy');
}

/** Reads and writes in the mmiotrace recorder: checks mmioCounts() against what the bus saw. */
export function recordedCounts(r: StagingRun): { writes: number; reads: number } {
  const rec = r.machine.bus.recorder;
  if (!rec) throw new Error('no recorder');
  let writes = 0;
  let reads = 0;
  for (let i = 0; i < rec.length; i++) {
    const kind = rec.entry(i).kind;
    if (kind === 'W') writes++;
    else if (kind === 'R') reads++;
  }
  return { writes, reads };
}
