import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chromeTraceJson, formatSummary, toMmiotrace } from '../../src/output/index.js';
import { BusFault, MmioBus } from '../../src/platform/bus.js';
import type { Machine } from '../../src/platform/machine.js';
import type { MachineSpecInput } from '../../src/platform/machine-spec.js';
import type { DeviceFault, DeviceProfile } from '../../src/platform/mailbox/config.js';
import type { MailboxDevice } from '../../src/platform/mailbox/device.js';
import { sharedImages } from '../../src/platform/mailbox/shared-images.js';
import { MmioTraceRecorder } from '../../src/platform/mmio-trace.js';
import { PRESETS } from '../../src/platform/presets.js';
import { resultJson } from '../../src/sim/json.js';
import { type SimulateOptions, simulate } from '../../src/sim/simulate.js';
import {
  buildImage,
  CONTROL,
  CTRL_ABORT,
  CTRL_GO,
  HEADER_LOW,
  makeRig,
  RDDATA,
  type Rig,
  referenceStage,
  STATUS,
  WRDATA,
} from '../support/reference-host.js';

// The block path (HostPort.writesl -> MmioBus.writesl -> MailboxDevice.writeBlock)
// is an optimisation of a writel() loop, and shared staged images
// (mailbox/shared-images.ts) one of a buffer per transfer: every state,
// statistic, time, misuse report and output must be what the loop and a buffer
// per transfer give. Both run here over random inputs and are compared byte for
// byte; the loop without sharing is the reference.

/** The reference: writesl() as the writel() loop it stands for (and no shared images: a buffer per transfer). */
function perDword(this: MmioBus, va: number, src: Uint32Array, from: number, count: number): void {
  for (let i = from; i < from + count; i++) this.writel(src[i]!, va);
}

function reference<T>(run: () => T): T {
  const writes = vi.spyOn(MmioBus.prototype, 'writesl').mockImplementation(perDword);
  const shared = vi.spyOn(sharedImages, 'get').mockReturnValue(undefined);
  try {
    return run();
  } finally {
    writes.mockRestore();
    shared.mockRestore();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

/** Everything a device shows through its API (its buffers as hex). */
function deviceView(d: MailboxDevice | undefined): unknown {
  if (d === undefined) return null;
  const staged = d.stagedImage();
  return {
    stats: { ...d.stats },
    transactions: d.transactions.map((t) => ({ ...t })),
    misuse: d.misuse.map((m) => ({ ...m })),
    staged: staged === undefined ? null : Buffer.from(staged).toString('hex'),
    stagedRevision: d.stagedRevision() ?? null,
    stagedReadyNs: d.stagedReadyNs() ?? null,
    inProgress: d.inProgress(),
  };
}

function machineView(m: Machine): unknown {
  return {
    now: m.now(),
    devices: m.devices.map(deviceView),
    applies: m.applyLog.map((a) => ({ ...a })),
    lowMemory: Array.from(m.lowMemory),
  };
}

// ---- the bus and device alone: random accesses, including misuse ----

type Op =
  | { op: 'abort' }
  | { op: 'go' }
  | { op: 'block'; reg: number; from: number; count: number }
  | { op: 'write'; reg: number; value: number }
  | { op: 'read'; reg: number }
  | { op: 'ack'; value: number }
  | { op: 'request'; chunkDwords: number; from: number }
  | { op: 'wait'; ns: number };

const REGS = [CONTROL, STATUS, WRDATA, RDDATA, 0x10, 0xffc];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant<Op>({ op: 'abort' }), weight: 2 },
  { arbitrary: fc.constant<Op>({ op: 'go' }), weight: 3 },
  {
    arbitrary: fc.record({
      op: fc.constant('block' as const),
      reg: fc.constantFrom(WRDATA, WRDATA, WRDATA, ...REGS),
      from: fc.integer({ min: 0, max: 2048 }),
      count: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 1100 })),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('write' as const),
      reg: fc.constantFrom(...REGS),
      value: fc.oneof(fc.constantFrom(0, CTRL_GO, CTRL_ABORT), fc.nat()),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('read' as const), reg: fc.constantFrom(...REGS) }), weight: 3 },
  {
    arbitrary: fc.record({ op: fc.constant('ack' as const), value: fc.constantFrom(0, 0, 0, 1) }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('request' as const),
      chunkDwords: fc.constantFrom(1024, 1024, 1023, 1025, 0, 12),
      from: fc.constantFrom(0, 0, 1024, 2048, 3),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ op: fc.constant('wait' as const), ns: fc.constantFrom(1e6, 3e6, 1e9) }),
    weight: 2,
  },
);

const faultArb: fc.Arbitrary<DeviceFault> = fc.oneof(
  fc.record({
    kind: fc.constantFrom(
      'error-status',
      'error-status-not-ready',
      'never-ready',
      'bad-header',
      'offset-past-end',
      'response-error',
      'rerequest-forever',
      'ignore-abort',
    ),
    atTransaction: fc.integer({ min: 0, max: 6 }),
  }),
  fc.record(
    {
      kind: fc.constant('respond' as const),
      atTransaction: fc.integer({ min: 0, max: 6 }),
      offset: fc.constantFrom('len', 'len+4', 'chunk', 'chunk+2', 'chunk-4096', 'chunk+4096', 0, 0xffff_ffff),
      statusBits: fc.constantFrom(0x8000_0000, 0x8000_0004, 0x4, 0),
      sticky: fc.boolean(),
    },
    { requiredKeys: ['kind', 'atTransaction'] },
  ),
);

const profileArb: fc.Arbitrary<DeviceProfile> = fc.oneof(
  fc.constant<DeviceProfile>({ kind: 'ideal' }),
  fc.record({ kind: fc.constant('slow' as const), chunkNs: fc.constantFrom(0, 1_500_000, 3e9) }),
  fc.record({
    kind: fc.constant('limited-cache' as const),
    cacheChunks: fc.integer({ min: 1, max: 4 }),
    rerequestProbability: fc.constantFrom(0, 0.5, 1),
    verifyPass: fc.boolean(),
    extraChunks: fc.integer({ min: 0, max: 2 }),
  }),
);

/** Write costs and start times whose sums a float64 holds exactly, and ones it does not. */
const timingArb = fc.record({
  mmioWriteNs: fc.constantFrom(100, 0, 1, 0.1, 33.3, 1e9),
  startNs: fc.constantFrom(0, 1.5e9, 0.5, 2 ** 53 - 5_000, 2 ** 53 + 2),
});

interface Outcome {
  log: unknown[];
  view: unknown;
}

function runOps(rig: Rig, src: Uint32Array, ops: readonly Op[], block: boolean): Outcome {
  const { bus, va, clock } = rig;
  const log: unknown[] = [];
  const writes = (at: number, from: number, count: number): void => {
    if (block) bus.writesl(at, src, from, count);
    else perDword.call(bus, at, src, from, count);
  };
  for (const o of ops) {
    try {
      switch (o.op) {
        case 'abort':
          bus.writel(CTRL_ABORT, va + CONTROL);
          break;
        case 'go':
          bus.writel(CTRL_GO, va + CONTROL);
          break;
        case 'block':
          writes(va + o.reg, o.from, Math.min(o.count, src.length - o.from));
          break;
        case 'write':
          bus.writel(o.value, va + o.reg);
          break;
        case 'read':
          log.push(bus.readl(va + o.reg));
          break;
        case 'ack':
          bus.writel(o.value, va + RDDATA);
          break;
        case 'request': {
          // A plausible request: both headers dword by dword, the chunk as a block.
          for (const d of [HEADER_LOW, 4 + o.chunkDwords, 3, 0]) bus.writel(d, va + WRDATA);
          writes(va + WRDATA, o.from, Math.min(o.chunkDwords, src.length - o.from));
          break;
        }
        case 'wait':
          clock.advance(o.ns);
          break;
      }
    } catch (e) {
      if (!(e instanceof BusFault)) throw e;
      log.push(`${e.name}: ${e.message}`);
    }
    log.push(clock.now);
  }
  return { log, view: deviceView(rig.device) };
}

describe('writesl: the block path is the writel() loop', () => {
  it('random register accesses, faults, profiles, write costs and clocks (bus + device)', () => {
    fc.assert(
      fc.property(
        // Most sequences start as a host would (ABORT), so requests get far enough to matter.
        fc
          .tuple(fc.boolean(), fc.array(opArb, { minLength: 1, maxLength: 40 }))
          .map(([reset, ops]) => (reset ? [{ op: 'abort' } as Op, ...ops] : ops)),
        fc.array(faultArb, { maxLength: 2 }),
        profileArb,
        timingArb,
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.constantFrom('none', 'same', 'other'),
        (ops, faults, profile, timing, pages, recorded, shared) => {
          // The source: a valid image of a few pages, so requests can also complete a transfer.
          const image = buildImage(pages * 4096, { revision: 0x2b00_0700 });
          const src = new Uint32Array(image.buffer.slice(0));
          const make = (): Rig => {
            const rig = makeRig({ profile, faults, cost: { mmioWriteNs: timing.mmioWriteNs }, seed: 7 });
            rig.clock.now = timing.startNs;
            if (recorded) rig.bus.recorder = new MmioTraceRecorder();
            return rig;
          };
          // The fast path with a shared verified image of this size (the same bytes
          // or others) or none; the reference with none.
          sharedImages.clear();
          if (shared !== 'none') {
            const other = buildImage(image.length, { revision: 0x2b00_0701, seed: 99 });
            expect(referenceStage(makeRig(), shared === 'same' ? image : other).result).toBe('OK');
          }
          const a = make();
          const fast = runOps(a, src, ops, true);
          const b = make();
          const slow = reference(() => runOps(b, src, ops, false));
          expect(fast).toStrictEqual(slow);
          if (recorded) {
            const trace = (r: Rig): unknown[] => [...r.bus.recorder!.entries()];
            expect(trace(a)).toStrictEqual(trace(b));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a block that fills the request buffer: the dword past it is an overflow at its own time', () => {
    const src = new Uint32Array(2000).map((_, i) => i);
    const outcome = (block: boolean): Outcome => {
      const rig = makeRig({ cost: { mmioWriteNs: 7 } });
      return runOps(rig, src, [{ op: 'abort' }, { op: 'block', reg: WRDATA, from: 0, count: 1500 }], block);
    };
    const fast = outcome(true);
    expect(fast).toStrictEqual(outcome(false));
    // 1 ABORT + 1028 dwords taken, then the 1029th is refused: time 7 * 1030.
    const misuse = (fast.view as { misuse: { kind: string; timeNs: number }[] }).misuse;
    expect(misuse).toEqual([expect.objectContaining({ kind: 'overflow', timeNs: 7 * 1030 })]);
  });

  it('past 2^53 ns a float64 rounds each addition: the block path adds one write at a time there', () => {
    const src = new Uint32Array(64).fill(1);
    const ops: Op[] = [{ op: 'abort' }, { op: 'block', reg: WRDATA, from: 0, count: 64 }];
    for (const [startNs, mmioWriteNs] of [
      [2 ** 53 + 2, 1],
      [2 ** 53 - 40, 1],
      [1e9 + 0.5, 100],
      [0, 0.1],
    ] as const) {
      const outcome = (block: boolean): Outcome => {
        const rig = makeRig({ cost: { mmioWriteNs } });
        rig.clock.now = startNs;
        return runOps(rig, src, ops, block);
      };
      expect(outcome(true)).toStrictEqual(outcome(false));
    }
  });

  it('through an address no device decodes, and through an unmapped one', () => {
    const rig = makeRig();
    const src = Uint32Array.of(1, 2, 3);
    const words = new Uint32Array(4);
    rig.bus.attachReserved(0x1000, words);
    const va = rig.bus.ioremap(0x1000, 16);
    rig.bus.writesl(va + 4, src, 0, 3);
    expect(Array.from(words)).toEqual([0, 3, 0, 0]);
    expect(rig.clock.now).toBe(300);
    expect(() => rig.bus.writesl(0x7000, src, 0, 1)).toThrow(BusFault);
    expect(() => rig.bus.writesl(va, src, 2, 2)).toThrow(RangeError);
  });
});

describe('buffers the device reuses and shares', () => {
  it('what a transfer never sent reads as zeros, as in a fresh buffer', () => {
    // Chunk 1 is the extended table, outside the checksum: a transfer that ends
    // after chunk 0 (a scripted end marker) verifies without it.
    const image = buildImage(8192, { extBytes: 4096, revision: 0x2b00_0800 });
    const staged = (restage: boolean): Uint8Array | undefined => {
      const rig = makeRig({
        faults: [{ kind: 'respond', atTransaction: restage ? 2 : 0, offset: 0xffff_ffff }],
      });
      if (restage) expect(referenceStage(rig, image).result).toBe('OK');
      expect(referenceStage(rig, image).result).toBe('OK');
      return rig.device.stagedImage()?.slice();
    };
    const fresh = staged(false);
    expect(fresh?.subarray(0, 4096)).toEqual(image.subarray(0, 4096));
    expect(fresh?.subarray(4096).every((b) => b === 0)).toBe(true);
    expect(staged(true)).toEqual(fresh);
  });

  it('a transfer that leaves a shared image at its second chunk keeps the first', () => {
    // Y is X but for the extended table in chunk 1 (outside the checksum).
    const x = buildImage(8192, { extBytes: 4096, revision: 0x2b00_0900 });
    const y = x.slice();
    y.fill(0x5a, 4096);
    sharedImages.clear();
    const a = makeRig();
    expect(referenceStage(a, x).result).toBe('OK');
    const b = makeRig();
    expect(referenceStage(b, y).result).toBe('OK');
    expect(b.device.stagedImage()).toEqual(y);
    expect(a.device.stagedImage()).toEqual(x);
  });

  it('leaving a shared image in the middle of the checksummed part: the checksum counts what came before', () => {
    // Y is X with two dwords of chunk 1 changed so that the sum stays 0: a valid other image.
    const x = buildImage(12_288, { revision: 0x2b00_0a00 });
    const y = x.slice();
    const v = new DataView(y.buffer);
    v.setUint32(4100, (v.getUint32(4100, true) + 1) >>> 0, true);
    v.setUint32(4104, (v.getUint32(4104, true) - 1) >>> 0, true);
    sharedImages.clear();
    expect(referenceStage(makeRig(), x).result).toBe('OK');
    const b = makeRig();
    expect(referenceStage(b, y).result).toBe('OK');
    expect(b.device.stagedImage()).toEqual(y);
  });
});

// ---- whole runs: every output of simulate() ----

const machineArb: fc.Arbitrary<MachineSpecInput> = fc
  .record({
    packages: fc.integer({ min: 1, max: 3 }),
    coresPerPackage: fc.integer({ min: 1, max: 3 }),
    threadsPerCore: fc.constantFrom(1 as const, 2 as const),
    interleaved: fc.boolean(),
    pkgFlag: fc.constantFrom('none', 'none', 'none', 'absent', 'msr-fault'),
  })
  .map((m) => ({
    ...PRESETS['gnr-2s']!,
    name: 'equivalence',
    packages: m.packages,
    coresPerPackage: m.coresPerPackage,
    threadsPerCore: m.threadsPerCore,
    numbering: { packages: m.interleaved ? 'interleaved' : 'package-major', smt: 'last' },
    ...(m.pkgFlag === 'none'
      ? {}
      : {
          packageConfig: [m.pkgFlag === 'absent' ? { mailboxAbsent: true } : { mailboxMsrFault: true }],
        }),
  }));

const optionsArb: fc.Arbitrary<SimulateOptions> = fc
  .record({
    machine: machineArb,
    profile: profileArb,
    faults: fc.array(
      fc.record({ pkg: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), value: faultArb }),
      { maxLength: 3 },
    ),
    imageBytes: fc.oneof(
      fc.integer({ min: 13, max: 6 * 1024 }).map((n) => n * 4),
      fc.constantFrom(52, 4096, 4100, 8192, 12_288 + 2, 200_003),
    ),
    mmioWriteNs: fc.constantFrom(100, 100, 0.1, 250.5),
    hz: fc.constantFrom(250 as const, 1000 as const),
    staging: fc.constantFrom('auto' as const, 'auto' as const, 'require' as const),
    dedupe: fc.constantFrom('previous-package' as const, 'distinct' as const),
    seed: fc.nat(),
  })
  .map((o) => ({
    machine: o.machine,
    profiles: [{ value: o.profile }],
    faults: o.faults
      .filter((f) => f.pkg === undefined || f.pkg < o.machine.packages)
      .map((f) => (f.pkg === undefined ? { value: f.value } : { pkg: f.pkg, value: f.value })),
    syntheticImageBytes: o.imageBytes,
    cost: { mmioWriteNs: o.mmioWriteNs, hz: o.hz },
    policy: { staging: o.staging, dedupe: o.dedupe },
    seed: o.seed,
    timeLimitNs: 600e9,
  }));

interface RunOutputs {
  error?: string;
  json?: string;
  summary?: string;
  chrome?: string;
  mmiotrace?: string;
  machine?: unknown;
}

function outputs(opts: SimulateOptions, mmioTrace: boolean): RunOutputs {
  let machine: unknown;
  try {
    const r = simulate({
      ...opts,
      trace: true,
      mmioTrace,
      onFinish: ({ machine: m }) => {
        machine = machineView(m);
      },
    });
    return {
      json: resultJson(r),
      summary: formatSummary(r),
      chrome: chromeTraceJson(r),
      ...(mmioTrace ? { mmiotrace: toMmiotrace(r) } : {}),
      machine,
    };
  } catch (e) {
    return { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), machine };
  }
}

describe('simulate(): block path and writel() loop give the same result, byte for byte', () => {
  it('random machines, profiles, faults (sticky respond offsets too), image sizes and costs', () => {
    fc.assert(
      fc.property(optionsArb, (opts) => {
        const slow = reference(() => outputs(opts, false));
        // With no shared image, with the run's own image shared (by the run before), and with another of its size.
        sharedImages.clear();
        const fast = outputs(opts, false);
        expect(fast).toStrictEqual(slow);
        expect(outputs(opts, false)).toStrictEqual(slow);
        const size = (JSON.parse(slow.json ?? '{}') as { image?: { totalSize?: number } }).image?.totalSize;
        if (size !== undefined && size % 4 === 0 && size >= 52) {
          sharedImages.clear();
          expect(referenceStage(makeRig(), buildImage(size, { seed: 5 })).result).toBe('OK');
          expect(outputs(opts, false)).toStrictEqual(slow);
        }
        // With an mmiotrace every dword goes through writel(): the same run again, and the same trace.
        const traced = outputs(opts, true);
        expect(reference(() => outputs(opts, true))).toStrictEqual(traced);
        expect({ ...traced, mmiotrace: undefined }).toStrictEqual({ ...fast, mmiotrace: undefined });
      }),
      { numRuns: 120 },
    );
  });

  it('the default run (gnr-2s, a 1.6 MB image)', () => {
    const fast = outputs({}, false);
    expect(fast.error).toBeUndefined();
    expect(reference(() => outputs({}, false))).toStrictEqual(fast);
  });
});
