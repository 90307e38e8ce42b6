import type { HostPort } from '../../platform/host-port.js';
import { EADDRNOTAVAIL, EBADR, EINVAL, EIO, EMSGSIZE, EPROTO, ETIMEDOUT } from '../errno.js';
import { KERNEL_LIMITS, MODEL_LIMITS } from '../limits.js';
import type { Policy } from '../policy.js';
import type { KernelLog } from '../printk.js';
import { KernelDoesNotTerminate } from '../stuck.js';
import type { Tracer } from '../trace.js';
import type { PackageStaging } from './staging-report.js';

// The mailbox as the driver knows it (Intel's definitions, restated). The
// device model keeps its own copy: the two sides share registers, not code.
const MBOX_REG_NUM = 4;
const MBOX_REG_SIZE = 4;
const MBOX_CONTROL_OFFSET = 0x0;
const MBOX_STATUS_OFFSET = 0x4;
const MBOX_WRDATA_OFFSET = 0x8;
const MBOX_RDDATA_OFFSET = 0xc;
const MASK_MBOX_CTRL_ABORT = 1 << 0;
const MASK_MBOX_CTRL_GO = 0x8000_0000;
const MASK_MBOX_STATUS_ERROR = 1 << 2;
const MASK_MBOX_STATUS_READY = 0x8000_0000;
const MASK_MBOX_RESP_ERROR = 1 << 2;
const MBOX_CMD_LOAD = 0x3;
const PCI_VENDOR_ID_INTEL = 0x8086;
const MBOX_OBJ_STAGING = 0xb;
/** Low dword of MBOX_HEADER(size); the high dword is size / 4. */
const MBOX_HEADER_LOW = PCI_VENDOR_ID_INTEL | (MBOX_OBJ_STAGING << 16);
const MBOX_HEADER_SIZE = 8;
const MBOX_RESPONSE_SIZE = 8;
const MBOX_XACTION_TIMEOUT_MS = KERNEL_LIMITS.stagingPollIterations;
const PAGE_SIZE = KERNEL_LIMITS.stagingChunkBytes;
const END_OFFSET = 0xffff_ffff;
/** The source file a WARN in this code names. */
export const INTEL_C = 'arch/x86/kernel/cpu/microcode/intel.c';

/** Per-run state of one package's transfer (the kernel's struct staging_state). */
interface StagingState {
  mmioBase: number;
  ucodeLen: number;
  chunkSize: number;
  bytesSent: number;
  offset: number;
  /** Times each 4 KB chunk index was sent; for resend counting and the per-chunk budget. */
  sendsPerChunk: Uint16Array;
  record: PackageStaging;
}

export interface StagingContext {
  port: HostPort;
  log: KernelLog;
  tracer: Tracer;
  policy: Policy;
  /** The image as dwords (the kernel's ucode_patch_late). */
  words: Uint32Array;
  /** Total size in bytes (may be < words.length * 4 only when misaligned, which never stages). */
  ucodeLen: number;
}

/** The image's bytes, for a chunk the device asked for at an offset that is not dword aligned. */
function imageBytes(ctx: StagingContext): Uint8Array {
  const w = ctx.words;
  return new Uint8Array(w.buffer, w.byteOffset, Math.min(ctx.ucodeLen, w.byteLength));
}

/**
 * Stage the image through one mailbox: reset it, then send chunks until the
 * device says it has everything. Returns 0 or a negative errno.
 */
export function doStage(ctx: StagingContext, mmioPa: number, record: PackageStaging): number {
  const steps = doStageSteps(ctx, mmioPa, record);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * do_stage() one transaction at a time: it pauses after each transaction and
 * returns 0 or a negative errno at the end. A caller that stages several
 * packages at the same virtual time (policy stage-order=parallel) resumes the
 * one that is furthest behind, so their MMIO accesses and log lines come in
 * time order, transaction by transaction.
 */
export function* doStageSteps(
  ctx: StagingContext,
  mmioPa: number,
  record: PackageStaging,
): Generator<void, number, void> {
  const { port } = ctx;
  const mmioBase = port.ioremap(mmioPa, MBOX_REG_NUM * MBOX_REG_SIZE);
  if (mmioBase === 0) {
    ctx.log.warnOnce('do_stage.ioremap', port.currentTask(), INTEL_C, 'do_stage');
    return -EADDRNOTAVAIL;
  }
  const ss: StagingState = {
    mmioBase,
    ucodeLen: ctx.ucodeLen,
    chunkSize: 0,
    bytesSent: 0,
    offset: 0,
    sendsPerChunk: new Uint16Array(Math.ceil(ctx.ucodeLen / PAGE_SIZE) + 1),
    record,
  };
  initStage(ctx, ss);

  let err = 0;
  let idle = 0;
  for (;;) {
    if (isEndOffset(ss.offset)) break;
    err = canSendNextChunk(ctx, ss);
    if (err) break;
    err = sendDataChunk(ctx, ss);
    if (err) break;
    // The device answers with the piece it wants next; it may want one again.
    err = fetchNextOffset(ctx, ss);
    if (err) break;
    // A request of 0 bytes moves nothing: bytes_sent stays, and so does the budget.
    idle = ss.chunkSize === 0 ? idle + 1 : 0;
    if (idle >= MODEL_LIMITS.stagingNoProgressIterations) neverEnds(ss);
    yield;
  }
  port.iounmap(mmioBase);
  record.bytesSent = ss.bytesSent;
  return err;
}

/**
 * The device keeps asking for the offset equal to the image length: each pass
 * computes chunk_size = min(PAGE_SIZE, len - offset) = 0, sends a header-only
 * request and adds nothing to bytes_sent, so neither the end marker nor the 2x
 * budget ever ends the loop. The kernel never returns; the model stops here.
 */
function neverEnds(ss: StagingState): never {
  ss.record.bytesSent = ss.bytesSent;
  const budget = ss.ucodeLen * KERNEL_LIMITS.stagingBudgetFactor;
  throw new KernelDoesNotTerminate({
    where: 'do_stage()',
    loop: 'while (!staging_is_complete(&ss, &err)) { send_data_chunk(); fetch_next_offset(); }',
    reason: `the device answers next offset ${ss.offset}, the image length, every time: chunk_size = min(PAGE_SIZE, ${ss.ucodeLen} - ${ss.offset}) = 0, each request is the 16-byte header alone, bytes_sent stays at ${ss.bytesSent} and never passes the ${budget}-byte budget, and the offset is never the end marker`,
    bound: `the model stopped after ${MODEL_LIMITS.stagingNoProgressIterations} such transactions in a row (the kernel loops for as long as the device keeps answering so)`,
  });
}

function initStage(ctx: StagingContext, ss: StagingState): void {
  // ABORT resets the device whatever it was doing; it has no status to check.
  ctx.port.writel(MASK_MBOX_CTRL_ABORT, ss.mmioBase + MBOX_CONTROL_OFFSET);
}

function isEndOffset(offset: number): boolean {
  return offset === END_OFFSET;
}

/** Policy transaction-limit=2x: twice the transactions an image of `len` bytes needs. */
export function transactionLimit(len: number): number {
  return KERNEL_LIMITS.stagingBudgetFactor * Math.ceil(len / PAGE_SIZE);
}

function canSendNextChunk(ctx: StagingContext, ss: StagingState): number {
  // unsigned int arithmetic: fetch_next_offset() let through only offsets up to the length.
  ss.chunkSize = Math.min(PAGE_SIZE, ss.ucodeLen - ss.offset);
  // Policy transaction-limit=2x: bytes can stay flat (a device asking for the image end)
  // or grow a byte at a time (an unaligned offset near it); requests cannot.
  if (ctx.policy.transactionLimit === '2x' && ss.record.chunks >= transactionLimit(ss.ucodeLen)) {
    return -EMSGSIZE;
  }
  if (ctx.policy.budget === 'per-chunk') {
    // The reviewer's alternative: bound how often any one chunk may be asked for.
    const sends = ss.sendsPerChunk[Math.floor(ss.offset / PAGE_SIZE)]!;
    return sends > ctx.policy.chunkRetries ? -EMSGSIZE : 0;
  }
  // The device may lack room for the whole image and ask for chunks again;
  // twice the image is the tolerance before the device is deemed stuck.
  return ss.bytesSent + ss.chunkSize > ss.ucodeLen * KERNEL_LIMITS.stagingBudgetFactor ? -EMSGSIZE : 0;
}

function sendDataChunk(ctx: StagingContext, ss: StagingState): number {
  const { port, words } = ctx;
  const wr = ss.mmioBase + MBOX_WRDATA_OFFSET;
  const startNs = port.now();
  // mbox_size is a u16 and MBOX_HEADER() divides it by 4: a chunk of 4n + r bytes
  // announces (and sends) n data dwords; bytes_sent still grows by all 4n + r.
  const mboxSize = (MBOX_HEADER_SIZE * 2 + ss.chunkSize) & 0xffff;
  port.writel(MBOX_HEADER_LOW, wr);
  port.writel(Math.floor(mboxSize / 4), wr);
  port.writel(MBOX_CMD_LOAD, wr);
  port.writel(0, wr);
  // Each UC write reaches the device as its own transaction, in order; the
  // device reassembles the chunk from the sequence.
  const dwords = ss.chunkSize >>> 2;
  if ((ss.offset & 3) === 0) {
    // writel(src[i], WRDATA) for each dword, in order (the port may move them as one block).
    port.writesl(wr, words, ss.offset >>> 2, dwords);
  } else {
    // src_chunk = ucode_ptr + offset: the dwords are read from that byte address.
    const bytes = imageBytes(ctx);
    for (let i = 0, b = ss.offset; i < dwords; i++, b += 4) {
      port.writel(
        (bytes[b]! | (bytes[b + 1]! << 8) | (bytes[b + 2]! << 16) | (bytes[b + 3]! << 24)) >>> 0,
        wr,
      );
    }
  }
  ss.bytesSent += ss.chunkSize;

  const rec = ss.record;
  const chunkIndex = Math.floor(ss.offset / PAGE_SIZE);
  if (ss.sendsPerChunk[chunkIndex]! > 0) rec.resends++;
  if (ss.sendsPerChunk[chunkIndex]! < 0xffff) ss.sendsPerChunk[chunkIndex]!++;
  rec.chunks++;
  rec.dwordsWritten += 4 + dwords;

  port.writel(MASK_MBOX_CTRL_GO, ss.mmioBase + MBOX_CONTROL_OFFSET);
  const err = waitForTransaction(ctx, ss);
  if (ctx.tracer.enabled) {
    ctx.tracer.span('transaction', `chunk @${ss.offset}`, rec.cpu, startNs, port.now(), {
      pkg: rec.pkg,
      offset: ss.offset,
      bytes: ss.chunkSize,
      resend: ss.sendsPerChunk[chunkIndex]! > 1,
      errno: err,
    });
    ctx.tracer.counter('bytes staged', rec.pkg, port.now(), ss.bytesSent);
  }
  return err;
}

function waitForTransaction(ctx: StagingContext, ss: StagingState): number {
  const { poll, pollWait } = ctx.policy;
  const status =
    poll === 'fine' && pollWait === 'readl-poll-timeout' ? readlPollTimeout(ctx, ss) : pollStatus(ctx, ss);
  if (status & MASK_MBOX_STATUS_ERROR) return -EIO;
  // Neither an answer nor an error: the device is stuck.
  if (!(status & MASK_MBOX_STATUS_READY)) return -ETIMEDOUT;
  return 0;
}

/**
 * The kernel's wait: a fixed number of sleeps, each followed by a STATUS read.
 * msleep(1) sleeps to the jiffy boundary after a whole jiffy (HZ and kernel
 * generation decide how long); poll=fine waits `pollUs` instead: udelay(), or
 * usleep_range(pollUs, 2 * pollUs) (poll-wait=usleep-range, charged at its upper
 * end, where an hrtimer with slack fires when nothing else wakes the CPU).
 * The same 10 s budget in iterations: 10,000 of msleep(1), 10 s / pollUs of the others.
 */
function pollStatus(ctx: StagingContext, ss: StagingState): number {
  const { port, policy } = ctx;
  const fine = policy.poll === 'fine';
  const iterations = fine
    ? Math.ceil((MBOX_XACTION_TIMEOUT_MS * 1000) / policy.pollUs)
    : MBOX_XACTION_TIMEOUT_MS;
  const sleepUs = policy.pollWait === 'usleep-range' ? 2 * policy.pollUs : policy.pollUs;
  let status = 0;
  for (let timeout = 0; timeout < iterations; timeout++) {
    if (!fine) port.msleep(1);
    else port.udelay(sleepUs);
    status = port.readl(ss.mmioBase + MBOX_STATUS_OFFSET);
    ss.record.polls++;
    if (status & MASK_MBOX_STATUS_READY) break;
  }
  return status;
}

/**
 * Policy poll-wait=readl-poll-timeout: include/linux/iopoll.h's loop. Read first;
 * stop at READY; once the 10 s deadline (time, not a count of sleeps) has
 * passed, read once more and stop; otherwise usleep_range(pollUs / 4 + 1,
 * pollUs), charged at pollUs. A dead device costs 10 s whatever HZ is.
 */
function readlPollTimeout(ctx: StagingContext, ss: StagingState): number {
  const { port, policy } = ctx;
  const deadline = port.now() + MBOX_XACTION_TIMEOUT_MS * 1_000_000;
  for (;;) {
    let status = port.readl(ss.mmioBase + MBOX_STATUS_OFFSET);
    ss.record.polls++;
    if (status & MASK_MBOX_STATUS_READY) return status;
    if (port.now() > deadline) {
      status = port.readl(ss.mmioBase + MBOX_STATUS_OFFSET);
      ss.record.polls++;
      return status;
    }
    port.udelay(policy.pollUs);
  }
}

function readMboxDword(port: HostPort, mmioBase: number): number {
  const dword = port.readl(mmioBase + MBOX_RDDATA_OFFSET);
  // The device moves to the next response dword only once this one is acknowledged.
  port.writel(0, mmioBase + MBOX_RDDATA_OFFSET);
  return dword;
}

function fetchNextOffset(ctx: StagingContext, ss: StagingState): number {
  const { port, log } = ctx;
  const low = readMboxDword(port, ss.mmioBase);
  const high = readMboxDword(port, ss.mmioBase);
  const offset = readMboxDword(port, ss.mmioBase);
  const status = readMboxDword(port, ss.mmioBase);

  if (low !== MBOX_HEADER_LOW || high !== (MBOX_HEADER_SIZE + MBOX_RESPONSE_SIZE) / 4) {
    const header = (BigInt(high) << 32n) | BigInt(low);
    log.prErrOnce('staging.header', `staging: invalid response header (0x${header.toString(16)})`);
    return -EBADR;
  }
  if (!isEndOffset(offset) && offset > ss.ucodeLen) {
    log.prErrOnce(
      'staging.offset',
      `staging: invalid offset (${offset}) past the image end (${ss.ucodeLen})`,
    );
    return -EINVAL;
  }
  // Policy offset-check=strict: the image length itself makes every later request
  // empty, and an unaligned offset makes it carry fewer bytes than bytes_sent counts.
  if (
    ctx.policy.offsetCheck === 'strict' &&
    !isEndOffset(offset) &&
    (offset === ss.ucodeLen || offset % 4 !== 0)
  ) {
    log.prOurs(
      'err',
      `staging: invalid offset (${offset}) for the image (${ss.ucodeLen} bytes): at its end or not 4-byte aligned`,
      'policy offset-check=strict: 6.19 refuses only offsets past the image end and prints no such line',
    );
    return -EINVAL;
  }
  if (status & MASK_MBOX_RESP_ERROR) return -EPROTO;
  ss.offset = offset;
  return 0;
}
