import type { VirtualClock } from '../../time/clock.js';
import type { CostModel } from '../../time/cost-model.js';
import { diffWords } from '../../words/diff.js';
import { sumWordRange } from '../../words/sum.js';
import type { MmioDevice } from '../bus.js';
import type { Rng } from '../rng.js';
import { ChunkPlan } from './chunk-plan.js';
import type { DeviceFault, DeviceFaultKind, DeviceProfile, OffsetExpression } from './config.js';
import { FaultSchedule } from './fault-schedule.js';
import { announcedImageBytes, hasHeader, mainChecksumOk, REVISION_DWORD } from './image-check.js';
import { ReceivedRanges } from './received.js';
import {
  CHUNK_BYTES,
  CONTROL_ABORT,
  CONTROL_GO,
  END_OF_IMAGE,
  MAX_IMAGE_BYTES,
  MBOX_CMD_LOAD,
  MBOX_HEADER_LOW,
  REG_CONTROL,
  REG_RDDATA,
  REG_STATUS,
  REG_WRDATA,
  REQUEST_CAPACITY_DWORDS,
  REQUEST_HEADER_DWORDS,
  RESP_ERROR,
  RESP_IN_PROGRESS,
  RESP_SUCCESS,
  RESPONSE_DWORDS,
  STATUS_ERROR,
  STATUS_ERROR_READY,
  STATUS_READY,
} from './registers.js';
import { type SharedImage, sharedImages } from './shared-images.js';

/** Host behaviour the device refuses; each one ends the transaction with ERROR|READY. */
export const MISUSE_KINDS = [
  /** WRDATA or GO before any ABORT since power-on (spec rule (a): staging starts with a reset). */
  'no-reset',
  /** WRDATA or GO while a transaction is processing or its 4 response dwords are not all acknowledged. */
  'request-before-ack',
  /** WRDATA or GO after the device reported ERROR, without an ABORT in between. */
  'request-after-error',
  /** GO after the transfer ended (completed or rejected), without an ABORT in between. */
  'request-after-end',
  /** More than 4 + 1024 dwords written to WRDATA before GO. */
  'overflow',
  /** GO with fewer than 4 dwords, a wrong vendor/type, or a size field that is not the dwords written. */
  'request-header',
  /** GO whose command header is not LOAD (3). */
  'request-command',
  /** GO whose chunk is not min(4096, length - offset) bytes for the offset the device asked for. */
  'chunk-length',
  /** A chunk sent again differs from what arrived for that offset before: the host sent another part. */
  'chunk-mismatch',
  /** RDDATA read with no response to read (before READY, after ERROR, or past the 4th dword). */
  'read-not-ready',
  /** RDDATA read twice without the write-0 acknowledgement in between. */
  'double-read',
  /** A write to RDDATA that is not 0, or acknowledges no read. */
  'bad-ack',
  /** An access at an offset that is no register, or a write to STATUS. */
  'bad-register',
] as const;
export type MisuseKind = (typeof MISUSE_KINDS)[number];

export interface MisuseRecord {
  timeNs: number;
  kind: MisuseKind;
  detail: string;
}

/** One GO. */
export interface MailboxTransaction {
  /** Zero-based over the device's lifetime (faults' `atTransaction` counts the same way). */
  index: number;
  goNs: number;
  /** When STATUS changes to `statusBits`; Infinity if it never does. */
  readyNs: number;
  /** Image offset the device took the chunk to be at (the offset it last asked for; 0 for a first chunk). */
  offset: number;
  /** Chunk bytes carried by the request (dwords written after the two headers, times 4). */
  bytes: number;
  /** The response's next-offset dword; -1 when the transaction produced no response. */
  nextOffset: number;
  /** The response's status dword; 0 when there is no response. */
  respStatus: number;
  /** The response header's two dwords; 0 when there is no response. */
  respHeaderLow: number;
  respHeaderHigh: number;
  /** STATUS from `readyNs` on: READY, ERROR|READY, ERROR, or 0 (never ready). */
  statusBits: number;
  fault: DeviceFaultKind | undefined;
  misuse: MisuseKind | undefined;
}

export interface MailboxStats {
  /** GO commands. */
  transactions: number;
  /** Chunk bytes carried by all GO'd requests. */
  bytesReceived: number;
  /** Responses asking for a chunk the device had already received in the transfer. */
  rerequests: number;
  /** ABORT commands, including one ignored by the ignore-abort fault. */
  aborts: number;
  /** Transfers that ended verified (a staged copy was kept). */
  completions: number;
  /** Faults that fired (each counted at the transaction it fired on). */
  faultsFired: number;
}

export interface MailboxDeviceOptions {
  clock: VirtualClock;
  cost: CostModel;
  profile: DeviceProfile;
  faults: readonly DeviceFault[];
  rng: Rng;
  packageId: number;
}

/** Response port: nothing outstanding / a response (readable from readyAt) / processing never ends / ERROR. */
const PORT_IDLE = 0;
const PORT_RESPONSE = 1;
const PORT_STUCK = 2;
const PORT_ERROR = 3;

/** Transfer: waiting for the first chunk / receiving / verified and staged / rejected. */
const XFER_IDLE = 0;
const XFER_RECEIVING = 1;
const XFER_COMPLETE = 2;
const XFER_FAILED = 3;

/** Header sent by the bad-header fault: right vendor and type, size 0 instead of 4. */
const BAD_HEADER_LOW = MBOX_HEADER_LOW;
const BAD_HEADER_HIGH = 0;

/**
 * WRDATA hot-path constants as module-local bindings: V8 folds a module's own
 * const into the code, but loads an imported binding from its cell (with a
 * TDZ check) on every access.
 */
const WRDATA = REG_WRDATA;
const CAPACITY = REQUEST_CAPACITY_DWORDS;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The per-package staging mailbox (spec §4), as hardware: it sees only register
 * offsets and 32-bit values, keeps its own state, and checks every step of the
 * host's protocol (misuse is recorded and answered with ERROR|READY).
 *
 * Time: a GO at `now` becomes READY at `now + processing time`; STATUS compares
 * with the clock. The device never advances the clock.
 */
export class MailboxDevice implements MmioDevice {
  readonly stats: MailboxStats = {
    transactions: 0,
    bytesReceived: 0,
    rerequests: 0,
    aborts: 0,
    completions: 0,
    faultsFired: 0,
  };
  readonly transactions: MailboxTransaction[] = [];
  readonly misuse: MisuseRecord[] = [];

  private readonly packageId: number;

  private readonly clock: VirtualClock;
  private readonly processingNs: number;
  private readonly plan: ChunkPlan;
  private readonly faultSchedule: FaultSchedule;

  // Request port (the WRDATA hot path touches only acceptingData, reqLen and req).
  private readonly req = new Uint32Array(REQUEST_CAPACITY_DWORDS);
  private reqLen = 0;
  /** WRDATA goes straight into `req`: reset seen, no transaction outstanding, no error. */
  private acceptingData = false;
  private overflow = false;

  // Response port.
  private resetSeen = false;
  private port = PORT_IDLE;
  private readyAt = 0;
  private readyStatus = 0;
  private readonly resp = new Uint32Array(RESPONSE_DWORDS);
  private respIndex = 0;
  private readPending = false;
  /** The misuse that put the device in ERROR; nothing more is recorded until ABORT. */
  private latched: MisuseKind | undefined;

  // Transfer.
  private xfer = XFER_IDLE;
  private image: Uint32Array | undefined;
  private imageBytes = 0;
  /** Offset the device asked for last (0 before the first chunk). */
  private expected = 0;
  /** The byte ranges of the image received so far; a chunk over one of them is a repeat. */
  private readonly received = new ReceivedRanges();
  /** Image length announced by the first chunk of the request being checked. */
  private announced = 0;
  private staged: Uint32Array | undefined;
  private stagedBytes: Uint8Array | undefined;
  /** When the transaction that completed the staged copy finishes processing: the copy exists from then. */
  private stagedAtNs = Number.POSITIVE_INFINITY;
  /** Set by finish() during the GO being processed. */
  private completedThisGo = false;
  /** The previous transfer's buffer, discarded by ABORT and reused when the next image has its size. */
  private spare: Uint32Array | undefined;
  /** `image` is a recycled buffer: what this transfer did not send still holds old data. */
  private imageStale = false;
  /**
   * `image` is this verified image shared read-only (shared-images.ts): every
   * chunk received so far equals it. Never written; never recycled.
   */
  private sharedWith: SharedImage | undefined = undefined;
  /** A verified own buffer is shared: no shared image of its size, or this transfer differed from it. */
  private shareOnVerify = false;
  /** Sum of the chunks this transfer stored in a buffer of its own, modulo 2^32 (as an int32). */
  private imageSum = 0;
  /**
   * imageSum is the sum of the whole image (gaps hold zeros when verified):
   * every chunk was summed as it arrived, none landed on bytes received before.
   * The checksum then needs no pass over the image.
   */
  private sumExact = false;
  /** Transfers started since power-on. */
  private transfers = 0;

  // Sticky fault state.
  /** A sticky `respond` script: every GO is answered by it until ABORT. */
  private script: DeviceFault | undefined;
  /**
   * A scripted answer asked for an offset the device cannot take a chunk at (not
   * dword aligned, at or past the image end, or after the transfer ended): until
   * ABORT it takes requests unchecked, stores nothing, and ends the transfer.
   */
  private offScript = false;
  private rerequestForever = false;
  private ignoreNextAbort = false;
  private abortWasIgnored = false;

  constructor(opts: MailboxDeviceOptions) {
    this.clock = opts.clock;
    this.packageId = opts.packageId;
    this.processingNs = opts.profile.kind === 'slow' ? opts.profile.chunkNs : opts.cost.deviceChunkNs;
    // Separate streams: adding a fault does not change which chunks are re-requested.
    this.plan = new ChunkPlan(opts.profile, opts.rng.fork(1));
    this.faultSchedule = new FaultSchedule(opts.faults, opts.rng.fork(2));
  }

  read32(offset: number): number {
    if (offset === REG_STATUS) return this.clock.now >= this.readyAt ? this.readyStatus : 0;
    if (offset === REG_RDDATA) return this.readResponse();
    if (offset === REG_CONTROL || offset === REG_WRDATA) return 0;
    this.flagMisuse('bad-register', `read at offset 0x${offset.toString(16)}`);
    return 0;
  }

  write32(offset: number, value: number): void {
    if (offset === WRDATA) {
      const n = this.reqLen;
      // `=== true`: a bare truthiness test of a field compiles to a generic ToBoolean.
      if (this.acceptingData === true && n < CAPACITY) {
        this.req[n] = value;
        this.reqLen = n + 1;
      } else {
        this.refuseData();
      }
      return;
    }
    if (offset === REG_RDDATA) this.acknowledge(value);
    else if (offset === REG_CONTROL) this.control(value);
    else
      this.flagMisuse(
        'bad-register',
        `write of 0x${(value >>> 0).toString(16)} at offset 0x${offset.toString(16)}`,
      );
  }

  /**
   * The leading WRDATA dwords of a block that write32() would simply store
   * (the device takes request data and has room), stored at once; see
   * MmioDevice.writeBlock. A dword write32() would refuse is left to it.
   */
  writeBlock(offset: number, src: Uint32Array, from: number, count: number): number {
    if (offset !== WRDATA || this.acceptingData !== true) return 0;
    const n = this.reqLen;
    const take = Math.min(count, CAPACITY - n);
    if (take <= 0) return 0;
    this.req.set(src.subarray(from, from + take), n);
    this.reqLen = n + take;
    return take;
  }

  /**
   * The completed staged copy, from the moment the transaction that completed it
   * finished processing (its ready time) until the next honoured ABORT, which
   * recycles its buffer. A host that stopped waiting earlier does not change that.
   */
  stagedImage(): Uint8Array | undefined {
    return this.clock.now >= this.stagedAtNs ? this.stagedBytes : undefined;
  }

  stagedRevision(): number | undefined {
    const s = this.staged;
    if (s === undefined || this.clock.now < this.stagedAtNs) return undefined;
    return hasHeader(s.length) ? s[REVISION_DWORD] : undefined;
  }

  /** When the staged copy is (or will be) complete; undefined when no transfer completed since ABORT. */
  stagedReadyNs(): number | undefined {
    return this.stagedBytes !== undefined ? this.stagedAtNs : undefined;
  }

  /** A transfer is under way: chunks still to come, or the last one still processing. */
  inProgress(): boolean {
    return (
      this.xfer === XFER_RECEIVING || (this.stagedBytes !== undefined && this.clock.now < this.stagedAtNs)
    );
  }

  // ---- CONTROL ----

  private control(value: number): void {
    if ((value & CONTROL_ABORT) !== 0) this.abort();
    else if ((value & CONTROL_GO) !== 0) this.go();
  }

  private abort(): void {
    this.stats.aborts++;
    if (this.ignoreNextAbort) {
      this.ignoreNextAbort = false;
      this.abortWasIgnored = true;
      return;
    }
    this.abortWasIgnored = false;
    this.resetSeen = true;
    this.reqLen = 0;
    this.overflow = false;
    this.port = PORT_IDLE;
    this.readyAt = 0;
    this.readyStatus = 0;
    this.respIndex = 0;
    this.readPending = false;
    this.latched = undefined;
    this.xfer = XFER_IDLE;
    // Keep the reassembly buffer for the next transfer: a fresh 1.6 MB buffer
    // costs more in first-touch page faults than the whole dword stream.
    if (this.image !== undefined && this.sharedWith === undefined) this.spare = this.image;
    this.image = undefined;
    this.sharedWith = undefined;
    this.imageBytes = 0;
    this.expected = 0;
    this.received.clear();
    this.staged = undefined;
    this.stagedBytes = undefined;
    this.stagedAtNs = Number.POSITIVE_INFINITY;
    this.script = undefined;
    this.offScript = false;
    this.rerequestForever = false;
    this.updateAccepting();
  }

  private go(): void {
    const now = this.clock.now;
    const index = this.transactions.length;
    const fault = this.faultSchedule.at(index);
    const dwords = this.reqLen;
    const bytes = dwords > REQUEST_HEADER_DWORDS ? (dwords - REQUEST_HEADER_DWORDS) * 4 : 0;
    const tx: MailboxTransaction = {
      index,
      goNs: now,
      readyNs: Number.POSITIVE_INFINITY,
      offset: this.expected,
      bytes,
      nextOffset: -1,
      respStatus: 0,
      respHeaderLow: 0,
      respHeaderHigh: 0,
      statusBits: 0,
      fault: undefined,
      misuse: undefined,
    };
    this.stats.transactions++;
    this.stats.bytesReceived += bytes;

    this.completedThisGo = false;
    if (this.checkRequest(dwords, bytes)) this.execute(tx, fault, bytes);
    tx.misuse = this.latched;
    tx.readyNs = Math.max(this.readyAt, now);
    tx.statusBits = this.readyStatus;
    // The copy exists once the transaction that completed it has been processed.
    if (this.completedThisGo && this.xfer === XFER_COMPLETE) this.stagedAtNs = tx.readyNs;

    this.reqLen = 0;
    this.overflow = false;
    this.updateAccepting();
    this.transactions.push(tx);
  }

  // ---- request checks (misuse) ----

  /** Whether the request just GO'd is acceptable; if not, the misuse is flagged. */
  private checkRequest(dwords: number, bytes: number): boolean {
    if (this.latched !== undefined) return false;
    if (!this.resetSeen) return this.refuse('no-reset', 'GO before any ABORT since power-on');
    if (this.port === PORT_ERROR) return this.refuse('request-after-error', 'GO after ERROR without ABORT');
    if (this.port !== PORT_IDLE) return this.refuse('request-before-ack', `GO with ${this.pendingText()}`);
    const req = this.req;
    if (dwords < REQUEST_HEADER_DWORDS || req[0] !== MBOX_HEADER_LOW || req[1] !== dwords) {
      const got = dwords >= 2 ? `0x${hex64(req[1]!, req[0]!)}` : 'none';
      return this.refuse('request-header', `mailbox header ${got} with ${dwords} dwords written`);
    }
    if (req[2] !== MBOX_CMD_LOAD || req[3] !== 0)
      return this.refuse('request-command', `command header 0x${hex64(req[3]!, req[2]!)}, not LOAD`);
    // Off the script the device no longer checks what it is sent (it stores nothing).
    if (this.offScript) return true;
    if (this.xfer === XFER_COMPLETE || this.xfer === XFER_FAILED) {
      const how = this.xfer === XFER_COMPLETE ? 'completed' : 'rejected';
      return this.refuse('request-after-end', `GO after the transfer ${how}, without ABORT`);
    }
    if (bytes === 0) return this.refuse('chunk-length', `empty chunk for offset ${this.expected}`);
    let length: number;
    if (this.xfer === XFER_IDLE) {
      this.announced = announcedImageBytes(req, REQUEST_HEADER_DWORDS, bytes / 4);
      // An unusable announced length is the image's fault, not the host's: rejected in accept().
      if (!validImageLength(this.announced, bytes)) return true;
      length = this.announced;
    } else {
      length = this.imageBytes;
    }
    const want = Math.min(CHUNK_BYTES, length - this.expected);
    if (bytes !== want) {
      return this.refuse(
        'chunk-length',
        `chunk of ${bytes} bytes for offset ${this.expected}, expected ${want} (image ${length} bytes)`,
      );
    }
    if (this.xfer === XFER_RECEIVING && !this.sameAsReceived(bytes)) {
      return this.refuse(
        'chunk-mismatch',
        `chunk sent again for offset ${this.expected} differs from the first copy`,
      );
    }
    return true;
  }

  private refuse(kind: MisuseKind, detail: string): false {
    this.flagMisuse(kind, detail);
    return false;
  }

  /** Whether the parts of the chunk at `expected` that arrived before are the same now. */
  private sameAsReceived(bytes: number): boolean {
    const image = this.image!;
    const req = this.req;
    const start = this.expected;
    return this.received.everyOverlap(start, start + bytes, (from, to) => {
      for (let b = from; b < to; b += 4) {
        if (image[b >>> 2] !== req[REQUEST_HEADER_DWORDS + ((b - start) >>> 2)]) return false;
      }
      return true;
    });
  }

  // ---- processing ----

  private execute(tx: MailboxTransaction, fired: DeviceFault | undefined, bytes: number): void {
    if (fired !== undefined) {
      this.stats.faultsFired++;
      tx.fault = fired.kind;
      if (fired.kind === 'respond' && fired.sticky === true) this.script = fired;
    }
    const script = fired === undefined ? this.script : fired.kind === 'respond' ? fired : undefined;
    if (script !== undefined) {
      tx.fault = 'respond';
      this.scripted(tx, script, bytes);
      return;
    }
    if (fired === undefined && this.offScript) {
      this.giveUp(tx);
      return;
    }
    const fault: DeviceFaultKind | undefined = fired?.kind;
    switch (fault) {
      case 'error-status':
        this.fail(STATUS_ERROR_READY);
        break;
      case 'error-status-not-ready':
        this.fail(STATUS_ERROR);
        break;
      case 'never-ready':
        this.port = PORT_STUCK;
        this.readyAt = Number.POSITIVE_INFINITY;
        this.readyStatus = 0;
        break;
      case 'bad-header':
        this.respond(tx, this.expected, RESP_IN_PROGRESS);
        this.resp[0] = BAD_HEADER_LOW;
        this.resp[1] = BAD_HEADER_HIGH;
        tx.respHeaderLow = BAD_HEADER_LOW;
        tx.respHeaderHigh = BAD_HEADER_HIGH;
        break;
      case 'offset-past-end': {
        const length = this.xfer === XFER_IDLE ? this.announced : this.imageBytes;
        this.respond(tx, (length + CHUNK_BYTES) >>> 0, RESP_IN_PROGRESS);
        break;
      }
      case 'response-error':
        this.respond(tx, this.expected, RESP_ERROR);
        break;
      case 'rerequest-forever':
        this.rerequestForever = true;
        this.accept(tx, bytes);
        break;
      case 'ignore-abort':
        this.ignoreNextAbort = true;
        this.accept(tx, bytes);
        break;
      default:
        this.accept(tx, bytes);
    }
  }

  /** Take the chunk at the expected offset and answer with the next offset (or the verdict). */
  private accept(tx: MailboxTransaction, bytes: number): void {
    if (this.xfer === XFER_IDLE) {
      if (!validImageLength(this.announced, bytes)) {
        this.xfer = XFER_FAILED;
        this.respond(tx, END_OF_IMAGE, RESP_ERROR);
        return;
      }
      this.imageBytes = this.announced;
      const words = this.imageBytes / 4;
      const shared = sharedImages.get(words);
      // A device's first transfer compares with the shared image; a device that
      // stages again takes a buffer of its own once and recycles it (copying into
      // a buffer paged in and a checksum cost less than the comparison).
      this.sharedWith = this.transfers === 0 ? shared : undefined;
      this.transfers++;
      this.image = this.sharedWith?.words ?? this.ownBuffer();
      this.shareOnVerify = shared === undefined;
      this.expected = 0;
      this.received.clear();
      this.imageSum = 0;
      this.sumExact = true;
      this.plan.start(this.imageBytes);
      this.xfer = XFER_RECEIVING;
    }
    const offset = this.expected;
    // Parts received before were checked to be the same: storing the whole chunk is exact.
    const start = REQUEST_HEADER_DWORDS;
    const count = bytes >>> 2;
    // `>>> 2`, not `/ 4`: `expected` once held END_OF_IMAGE, a double, and a
    // quotient of a double reached diffWords() as one (a deopt in its first run).
    const at = offset >>> 2;
    const req = this.req;
    // A chunk over bytes received before would count them twice in the running sum.
    if (this.sumExact && this.received.overlaps(offset, offset + bytes)) this.sumExact = false;
    if (this.sharedWith !== undefined && diffWords(req, start, this.image!, at, count) !== 0) this.unshare();
    if (this.sharedWith === undefined) {
      this.image!.set(req.subarray(start, start + count), at);
      // Summed now, while the chunk is in cache, not in a pass over the image at the end.
      this.imageSum = (this.imageSum + sumWordRange(req, start, start + count)) | 0;
    }
    this.received.add(offset, offset + bytes);
    const next = this.rerequestForever ? offset : this.plan.next(offset);
    if (next === END_OF_IMAGE) {
      this.finish(tx);
      return;
    }
    if (this.received.has(next)) this.stats.rerequests++;
    this.expected = next;
    this.respond(tx, next, RESP_IN_PROGRESS);
  }

  /** A buffer of the image's size: the last transfer's (stale), or a new one. */
  private ownBuffer(): Uint32Array {
    const words = this.imageBytes / 4;
    const spare = this.spare;
    this.spare = undefined;
    // A recycled buffer still holds the last image: the parts this transfer
    // never sends are zeroed when it ends (verify()), not all of it now.
    this.imageStale = spare !== undefined && spare.length === words;
    return this.imageStale ? spare! : new Uint32Array(words);
  }

  /** Leave the shared image: a buffer of its own holding what was received so far. */
  private unshare(): void {
    const shared = this.image!;
    const own = this.ownBuffer();
    this.received.everyOverlap(0, this.imageBytes, (from, to) => {
      own.set(shared.subarray(from >>> 2, to >>> 2), from >>> 2);
      return true;
    });
    this.image = own;
    this.sharedWith = undefined;
    // The chunks compared with the shared image were not summed.
    this.sumExact = false;
    // The shared image is not this one: this one is shared when verified.
    this.shareOnVerify = true;
  }

  private finish(tx: MailboxTransaction): void {
    this.respond(tx, END_OF_IMAGE, this.verify() ? RESP_SUCCESS : RESP_ERROR);
  }

  /** The transfer ends: the checksum decides between a staged copy and a rejected image. */
  private verify(): boolean {
    this.expected = END_OF_IMAGE;
    // Every byte arrived and equals a verified image: it is that image (checksum included).
    if (this.sharedWith !== undefined && !this.received.covers(0, this.imageBytes)) this.unshare();
    const image = this.image!;
    if (this.sharedWith !== undefined) return this.complete(image);
    if (this.imageStale) {
      // What a fresh buffer would hold where no chunk arrived: zeros.
      this.received.forEachGap(this.imageBytes, (from, to) => image.fill(0, from >>> 2, to >>> 2));
      this.imageStale = false;
    }
    if (!mainChecksumOk(image, this.sumExact ? this.imageSum : undefined)) {
      this.xfer = XFER_FAILED;
      return false;
    }
    if (this.shareOnVerify) this.sharedWith = sharedImages.put(image);
    return this.complete(image);
  }

  private complete(image: Uint32Array): true {
    this.xfer = XFER_COMPLETE;
    this.staged = image;
    this.stagedBytes =
      this.sharedWith?.bytes ??
      (LITTLE_ENDIAN ? new Uint8Array(image.buffer, image.byteOffset, image.byteLength) : toBytes(image));
    this.stats.completions++;
    this.completedThisGo = true;
    return true;
  }

  private respond(tx: MailboxTransaction, next: number, status: number): void {
    const resp = this.resp;
    resp[0] = MBOX_HEADER_LOW;
    resp[1] = RESPONSE_DWORDS;
    resp[2] = next;
    resp[3] = status;
    this.respIndex = 0;
    this.readPending = false;
    this.port = PORT_RESPONSE;
    this.readyAt = this.clock.now + this.processingNs;
    this.readyStatus = STATUS_READY;
    tx.nextOffset = next;
    tx.respStatus = status;
    tx.respHeaderLow = resp[0];
    tx.respHeaderHigh = resp[1];
  }

  /**
   * A `respond` script. A transaction whose STATUS will show ERROR, or never
   * READY, takes no chunk (as the error faults). Otherwise the device does what
   * it would have done, then answers with the script's dwords where it gives them.
   */
  private scripted(tx: MailboxTransaction, s: DeviceFault, bytes: number): void {
    const statusBits = (s.statusBits ?? STATUS_READY) >>> 0;
    const readyAt = this.clock.now + (s.readyNs ?? this.processingNs);
    if ((statusBits & STATUS_READY) === 0 || (statusBits & STATUS_ERROR) !== 0) {
      this.port = (statusBits & STATUS_ERROR) !== 0 ? PORT_ERROR : PORT_STUCK;
      this.readyAt = readyAt;
      this.readyStatus = statusBits;
      return;
    }
    const chunkOffset = this.expected;
    // Off the script the device takes nothing; the script says the rest of the answer.
    if (this.offScript) this.respond(tx, END_OF_IMAGE, RESP_IN_PROGRESS);
    else this.accept(tx, bytes);
    if (this.port !== PORT_RESPONSE) return;
    const resp = this.resp;
    if (s.headerLow !== undefined) resp[0] = s.headerLow;
    if (s.headerHigh !== undefined) resp[1] = s.headerHigh;
    if (s.status !== undefined) resp[3] = s.status;
    if (s.offset !== undefined) {
      const next = resolveOffset(s.offset, this.imageBytes || this.announced, chunkOffset);
      resp[2] = next;
      this.follow(next);
    }
    this.readyAt = readyAt;
    this.readyStatus = statusBits;
    tx.nextOffset = resp[2]!;
    tx.respStatus = resp[3]!;
    tx.respHeaderLow = resp[0]!;
    tx.respHeaderHigh = resp[1]!;
  }

  /** The device asked for `next` (a scripted answer): take the next chunk there, end here, or go off the script. */
  private follow(next: number): void {
    if (this.xfer !== XFER_RECEIVING) {
      // The transfer has ended (or never started): nothing more can be taken.
      if (next !== END_OF_IMAGE) this.offScript = true;
      return;
    }
    if (next === END_OF_IMAGE) {
      this.verify();
      return;
    }
    if (next % 4 !== 0 || next >= this.imageBytes) {
      this.offScript = true;
      return;
    }
    if (this.received.has(next)) this.stats.rerequests++;
    this.expected = next;
  }

  /** Off the script: the request is taken unchecked and unstored, and the transfer ends (an error unless it was complete). */
  private giveUp(tx: MailboxTransaction): void {
    const complete = this.xfer === XFER_COMPLETE;
    if (this.xfer === XFER_RECEIVING || this.xfer === XFER_IDLE) this.xfer = XFER_FAILED;
    this.expected = END_OF_IMAGE;
    this.respond(tx, END_OF_IMAGE, complete ? RESP_SUCCESS : RESP_ERROR);
  }

  /** A transaction that ends in ERROR (a device fault): no response, ABORT needed. */
  private fail(statusBits: number): void {
    this.port = PORT_ERROR;
    this.readyAt = this.clock.now + this.processingNs;
    this.readyStatus = statusBits;
  }

  // ---- response port ----

  private readResponse(): number {
    if (this.port === PORT_RESPONSE && this.clock.now >= this.readyAt) {
      if (this.readPending) {
        this.flagMisuse('double-read', `RDDATA dword ${this.respIndex} read again without acknowledgement`);
        return 0;
      }
      this.readPending = true;
      return this.resp[this.respIndex]!;
    }
    this.flagMisuse('read-not-ready', `RDDATA read with ${this.pendingText()}`);
    return 0;
  }

  private acknowledge(value: number): void {
    if (this.port === PORT_RESPONSE && this.readPending && value === 0) {
      this.readPending = false;
      this.respIndex++;
      if (this.respIndex === RESPONSE_DWORDS) {
        this.port = PORT_IDLE;
        this.updateAccepting();
      }
      return;
    }
    const why = value !== 0 ? `value 0x${(value >>> 0).toString(16)}, not 0` : `no read to acknowledge`;
    this.flagMisuse('bad-ack', `RDDATA write: ${why}`);
  }

  /** Slow path of WRDATA: the device is not taking request data, or the buffer is full. */
  private refuseData(): void {
    if (this.latched !== undefined) return;
    if (!this.resetSeen) this.flagMisuse('no-reset', 'WRDATA before any ABORT since power-on');
    else if (this.port === PORT_ERROR)
      this.flagMisuse('request-after-error', 'WRDATA after ERROR without ABORT');
    else if (this.port !== PORT_IDLE)
      this.flagMisuse('request-before-ack', `WRDATA with ${this.pendingText()}`);
    else {
      this.overflow = true;
      this.flagMisuse('overflow', `more than ${REQUEST_CAPACITY_DWORDS} dwords written before GO`);
    }
  }

  private pendingText(): string {
    switch (this.port) {
      case PORT_IDLE:
        return 'no response outstanding';
      case PORT_RESPONSE:
        return this.clock.now < this.readyAt
          ? 'the transaction still processing (not READY)'
          : `response dwords ${this.respIndex}..3 not acknowledged`;
      case PORT_STUCK:
        return 'the transaction still processing (not READY)';
      default:
        return 'the device in ERROR';
    }
  }

  private flagMisuse(kind: MisuseKind, detail: string): void {
    if (this.latched !== undefined) return;
    const note = this.abortWasIgnored ? ' (the last ABORT was ignored: fault ignore-abort)' : '';
    this.misuse.push({ timeNs: this.clock.now, kind, detail: `package ${this.packageId}: ${detail}${note}` });
    this.latched = kind;
    this.port = PORT_ERROR;
    this.readyAt = this.clock.now;
    this.readyStatus = STATUS_ERROR_READY;
    this.updateAccepting();
  }

  private updateAccepting(): void {
    this.acceptingData =
      this.resetSeen && this.port === PORT_IDLE && this.latched === undefined && !this.overflow;
  }
}

/** Whether the device can stage an image of `length` bytes whose first chunk was `firstChunk` bytes. */
function validImageLength(length: number, firstChunk: number): boolean {
  if (length === 0 || length % 4 !== 0 || length > MAX_IMAGE_BYTES) return false;
  // A first chunk that holds a header announces at least a header's worth.
  return firstChunk < 48 || length >= 48;
}

/** A scripted next offset as a dword: a number, or `len`/`chunk` plus or minus N (wrapping). */
function resolveOffset(e: OffsetExpression, imageBytes: number, chunkOffset: number): number {
  if (typeof e === 'number') return e >>> 0;
  const m = /^(len|chunk)(?:([+-])(\d+))?$/.exec(e)!;
  const base = m[1] === 'len' ? imageBytes : chunkOffset;
  const delta = m[3] === undefined ? 0 : Number(m[3]) * (m[2] === '-' ? -1 : 1);
  return (base + delta) >>> 0;
}

function hex64(high: number, low: number): string {
  return ((BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)).toString(16);
}

function toBytes(dwords: Uint32Array): Uint8Array {
  const out = new Uint8Array(dwords.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < dwords.length; i++) view.setUint32(i * 4, dwords[i]!, true);
  return out;
}
