/**
 * Test-side host for the staging mailbox: a rig (clock + bus + one device) and
 * a correct implementation of the host algorithm of spec §5, plus a builder
 * for test microcode images. The host talks to the device only through the
 * MmioBus, with its own copy of the register numbers.
 */

import { MmioBus } from '../../src/platform/bus.js';
import { DeviceFaultSchema, DeviceProfileSchema } from '../../src/platform/mailbox/config.js';
import { MailboxDevice } from '../../src/platform/mailbox/device.js';
import { Rng } from '../../src/platform/rng.js';
import { VirtualClock } from '../../src/time/clock.js';
import { type CostModel, DEFAULT_COST_MODEL } from '../../src/time/cost-model.js';
import type { z } from '../../src/zod.js';

export const MAILBOX_BASE = 0xfe00_0000;
export const MAILBOX_SIZE = 16;

// The host's copy of the mailbox interface (spec §4).
export const CONTROL = 0x0;
export const STATUS = 0x4;
export const WRDATA = 0x8;
export const RDDATA = 0xc;
export const CTRL_ABORT = 0x1;
export const CTRL_GO = 0x8000_0000;
export const ST_ERROR = 0x4;
export const ST_READY = 0x8000_0000;
export const RESP_ERROR_BIT = 0x4;
export const HEADER_LOW = 0x000b_8086;
export const CMD_LOAD = 0x3;
export const END_OFFSET = 0xffff_ffff;
export const PAGE = 4096;
export const POLL_LIMIT = 10_000;
export const POLL_NS = 1_000_000;

export type ProfileInput = z.input<typeof DeviceProfileSchema>;
export type FaultInput = z.input<typeof DeviceFaultSchema>;

export interface RigOptions {
  profile?: ProfileInput;
  faults?: readonly FaultInput[];
  seed?: number;
  cost?: Partial<CostModel>;
  packageId?: number;
}

export interface Rig {
  clock: VirtualClock;
  bus: MmioBus;
  device: MailboxDevice;
  /** The host's ioremap() cookie for the mailbox registers. */
  va: number;
}

export function makeRig(opts: RigOptions = {}): Rig {
  const clock = new VirtualClock();
  const cost: CostModel = { ...DEFAULT_COST_MODEL, ...opts.cost };
  const bus = new MmioBus(clock, cost);
  const device = new MailboxDevice({
    clock,
    cost,
    profile: DeviceProfileSchema.parse(opts.profile ?? { kind: 'ideal' }),
    faults: (opts.faults ?? []).map((f) => DeviceFaultSchema.parse(f)),
    rng: new Rng(opts.seed ?? 1),
    packageId: opts.packageId ?? 0,
  });
  bus.attach(MAILBOX_BASE, MAILBOX_SIZE, device);
  const va = bus.ioremap(MAILBOX_BASE, MAILBOX_SIZE);
  if (va === 0) throw new Error('ioremap failed');
  return { clock, bus, device, va };
}

export type HostResult = 'OK' | 'EIO' | 'ETIMEDOUT' | 'EBADR' | 'EINVAL' | 'EPROTO' | 'EMSGSIZE';

export interface StageOutcome {
  result: HostResult;
  bytesSent: number;
  /** GOs the host issued. */
  transactions: number;
  /** Offsets of the chunks sent, in order. */
  offsets: number[];
  elapsedNs: number;
  /** What the kernel would have printed (pr_err_once lines). */
  messages: string[];
}

/** The spec §5 host: ABORT, then chunks until the end marker, with the 2x budget. */
export function referenceStage(rig: Rig, image: Uint8Array): StageOutcome {
  const { bus, clock, va } = rig;
  const len = image.length;
  if (len % 4 !== 0) throw new RangeError(`image ${len} bytes is not a multiple of 4`);
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const start = clock.now;
  const messages: string[] = [];
  const offsets: number[] = [];
  let offset = 0;
  let bytesSent = 0;
  let transactions = 0;
  const done = (result: HostResult): StageOutcome => ({
    result,
    bytesSent,
    transactions,
    offsets,
    elapsedNs: clock.now - start,
    messages,
  });
  const readDword = (): number => {
    const v = bus.readl(va + RDDATA);
    bus.writel(0, va + RDDATA);
    return v;
  };

  // No status check after ABORT: it just resets the device.
  bus.writel(CTRL_ABORT, va + CONTROL);
  while (offset !== END_OFFSET) {
    const chunk = Math.min(PAGE, len - offset);
    if (bytesSent + chunk > 2 * len) return done('EMSGSIZE');
    bus.writel(HEADER_LOW, va + WRDATA);
    bus.writel((16 + chunk) / 4, va + WRDATA);
    bus.writel(CMD_LOAD, va + WRDATA);
    bus.writel(0, va + WRDATA);
    for (let i = 0; i < chunk; i += 4) bus.writel(view.getUint32(offset + i, true), va + WRDATA);
    bytesSent += chunk;
    offsets.push(offset);
    bus.writel(CTRL_GO, va + CONTROL);
    transactions++;

    let status = 0;
    for (let t = 0; t < POLL_LIMIT; t++) {
      clock.advance(POLL_NS);
      status = bus.readl(va + STATUS);
      if ((status & ST_READY) !== 0) break;
    }
    if ((status & ST_ERROR) !== 0) return done('EIO');
    if ((status & ST_READY) === 0) return done('ETIMEDOUT');

    const low = readDword();
    const high = readDword();
    const next = readDword();
    const respStatus = readDword();
    if (low !== HEADER_LOW || high !== 4) {
      const header = ((BigInt(high) << 32n) | BigInt(low)).toString(16);
      messages.push(`microcode: staging: invalid response header (0x${header})`);
      return done('EBADR');
    }
    if (next !== END_OFFSET && next > len) {
      messages.push(`microcode: staging: invalid offset (${next}) past the image end (${len})`);
      return done('EINVAL');
    }
    if ((respStatus & RESP_ERROR_BIT) !== 0) return done('EPROTO');
    offset = next;
  }
  return done('OK');
}

// ---- raw access helpers for hand-written (mis)behaving hosts ----

export function writeRequest(rig: Rig, chunk: Uint8Array, headerDwords?: readonly number[]): void {
  const { bus, va } = rig;
  const header = headerDwords ?? [HEADER_LOW, (16 + chunk.length) / 4, CMD_LOAD, 0];
  for (const d of header) bus.writel(d, va + WRDATA);
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  for (let i = 0; i + 4 <= chunk.length; i += 4) bus.writel(view.getUint32(i, true), va + WRDATA);
}

/** Poll like the kernel; returns the last STATUS value. */
export function pollStatus(rig: Rig, limit = POLL_LIMIT): number {
  let status = 0;
  for (let t = 0; t < limit; t++) {
    rig.clock.advance(POLL_NS);
    status = rig.bus.readl(rig.va + STATUS);
    if ((status & ST_READY) !== 0) break;
  }
  return status;
}

export function readResponse(rig: Rig): [number, number, number, number] {
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    out.push(rig.bus.readl(rig.va + RDDATA));
    rig.bus.writel(0, rig.va + RDDATA);
  }
  return out as [number, number, number, number];
}

// ---- test images ----

export interface ImageOptions {
  revision?: number;
  seed?: number;
  /** Bytes of extended signature table after the data (not covered by the main checksum). */
  extBytes?: number;
  /** 2048-byte image in the legacy format: data size and total size fields 0. */
  legacy?: boolean;
}

/**
 * A test image whose main checksum is right. Below 48 bytes there is no header
 * (random dwords summing to 0); 48 exactly cannot be expressed (data size 0
 * means the legacy 2048 bytes).
 */
export function buildImage(totalBytes: number, opts: ImageOptions = {}): Uint8Array {
  if (totalBytes <= 0 || totalBytes % 4 !== 0) throw new RangeError(`bad image size ${totalBytes}`);
  const rng = new Rng(opts.seed ?? totalBytes);
  const dwords = new Uint32Array(totalBytes / 4);
  for (let i = 0; i < dwords.length; i++) dwords[i] = rng.nextU32();
  let covered = dwords.length;
  let checksumDword = dwords.length - 1;
  if (totalBytes >= 48) {
    const ext = opts.extBytes ?? 0;
    const dataSize = opts.legacy ? 2000 : totalBytes - 48 - ext;
    if (opts.legacy && totalBytes !== 2048) throw new RangeError('legacy images are 2048 bytes');
    if (dataSize <= 0 || ext % 4 !== 0) throw new RangeError(`cannot build a ${totalBytes}-byte image`);
    dwords.set([1, opts.revision ?? 0x2b00_0600, 0x2025_0101, 0x000c_06f2, 0, 1, 0x87], 0);
    dwords[7] = opts.legacy ? 0 : dataSize;
    dwords[8] = opts.legacy ? 0 : totalBytes;
    dwords.set([0, 0, 0], 9);
    covered = (48 + dataSize) / 4;
    checksumDword = 4;
  }
  let sum = 0;
  for (let i = 0; i < covered; i++) if (i !== checksumDword) sum = (sum + dwords[i]!) >>> 0;
  dwords[checksumDword] = (0x1_0000_0000 - sum) >>> 0;
  const bytes = new Uint8Array(totalBytes);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < dwords.length; i++) view.setUint32(i * 4, dwords[i]!, true);
  return bytes;
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
