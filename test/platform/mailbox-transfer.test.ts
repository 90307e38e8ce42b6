import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_COST_MODEL } from '../../src/time/cost-model.js';
import {
  buildImage,
  CONTROL,
  CTRL_ABORT,
  CTRL_GO,
  END_OFFSET,
  HEADER_LOW,
  makeRig,
  PAGE,
  pollStatus,
  RDDATA,
  readResponse,
  referenceStage,
  ST_READY,
  STATUS,
  sameBytes,
  writeRequest,
} from '../support/reference-host.js';

const inOrder = (len: number): number[] => Array.from({ length: Math.ceil(len / PAGE) }, (_, i) => i * PAGE);

function expectStaged(len: number, opts: Parameters<typeof buildImage>[1] = {}): void {
  const rig = makeRig();
  const image = buildImage(len, { revision: 0x2b00_0601 + len, ...opts });
  const out = referenceStage(rig, image);
  expect(out.result).toBe('OK');
  expect(out.bytesSent).toBe(len);
  expect(out.offsets).toEqual(inOrder(len));
  expect(sameBytes(rig.device.stagedImage(), image)).toBe(true);
  expect(rig.device.stagedRevision()).toBe(len >= 48 ? (0x2b00_0601 + len) >>> 0 : undefined);
  expect(rig.device.inProgress()).toBe(false);
  expect(rig.device.stats).toMatchObject({ completions: 1, bytesReceived: len, rerequests: 0, aborts: 1 });
  expect(rig.device.misuse).toEqual([]);
}

describe('mailbox device: a correct host stages any image', () => {
  it.each([4, 8, 44, 52, 100, 4092, 4096, 4100, 8192, 12_300, 1_600_000, 4 * 1024 * 1024])(
    '%i bytes, byte-exact',
    (len) => expectStaged(len),
  );

  it('reads the legacy format (data size 0 means 2048 bytes)', () => expectStaged(2048, { legacy: true }));

  it('checks only header + data, not an extended signature table', () => {
    expectStaged(4048 + 48 + 20 * 3, { extBytes: 20 * 3 });
  });

  it('random sizes up to 4 MB (fast-check)', () => {
    const size = fc.oneof(
      fc.integer({ min: 1, max: 2048 }).map((n) => n * 4),
      fc.integer({ min: 1, max: 1 << 20 }).map((n) => n * 4),
    );
    fc.assert(
      fc.property(
        size.filter((n) => n !== 48),
        (len) => expectStaged(len),
      ),
      { numRuns: 30 },
    );
  });

  it('answers on the registers exactly as the protocol says', () => {
    const rig = makeRig();
    const image = buildImage(8192 + 16);
    rig.bus.writel(CTRL_ABORT, rig.va + CONTROL);
    expect(rig.bus.readl(rig.va + STATUS)).toBe(0);
    writeRequest(rig, image.subarray(0, PAGE));
    rig.bus.writel(CTRL_GO, rig.va + CONTROL);
    expect(rig.bus.readl(rig.va + STATUS)).toBe(0); // 1 us after GO: still processing
    expect(rig.device.inProgress()).toBe(true);
    expect(pollStatus(rig)).toBe(ST_READY);
    expect(readResponse(rig)).toEqual([HEADER_LOW, 4, PAGE, 0x2]);
    expect(rig.device.transactions[0]).toMatchObject({
      index: 0,
      offset: 0,
      bytes: PAGE,
      nextOffset: PAGE,
      respStatus: 2,
      statusBits: ST_READY,
      fault: undefined,
      misuse: undefined,
    });
    const tx = rig.device.transactions[0]!;
    expect(tx.readyNs - tx.goNs).toBe(DEFAULT_COST_MODEL.deviceChunkNs);
  });
});

describe('mailbox device: profiles', () => {
  const len = 10 * PAGE + 400;
  const image = buildImage(len);

  it('ideal: each chunk once, in order', () => {
    const rig = makeRig({ profile: { kind: 'ideal' } });
    const out = referenceStage(rig, image);
    expect(out.result).toBe('OK');
    expect(out.offsets).toEqual(inOrder(len));
    expect(rig.device.transactions.map((t) => t.nextOffset)).toEqual([...inOrder(len).slice(1), END_OFFSET]);
    expect(rig.device.transactions.at(-1)!.respStatus).toBe(0x1);
  });

  it('limited-cache with verifyPass: the whole image exactly twice, within the 2x budget', () => {
    const rig = makeRig({ profile: { kind: 'limited-cache', cacheChunks: 4, verifyPass: true } });
    const out = referenceStage(rig, image);
    expect(out.result).toBe('OK');
    expect(out.bytesSent).toBe(2 * len);
    expect(out.offsets).toEqual([...inOrder(len), ...inOrder(len)]);
    expect(rig.device.stats.rerequests).toBe(11);
    expect(sameBytes(rig.device.stagedImage(), image)).toBe(true);
  });

  it('limited-cache with verifyPass and extraChunks 1: one chunk over the budget, EMSGSIZE', () => {
    const rig = makeRig({
      profile: { kind: 'limited-cache', cacheChunks: 4, verifyPass: true, extraChunks: 1 },
    });
    const out = referenceStage(rig, image);
    expect(out.result).toBe('EMSGSIZE');
    expect(out.bytesSent).toBe(2 * len);
    expect(rig.device.transactions.at(-1)!.nextOffset).toBe(0);
    expect(rig.device.inProgress()).toBe(true);
    expect(rig.device.stagedImage()).toBeUndefined();
  });

  it('limited-cache with extraChunks 2 and no verify pass: two more chunks, then done', () => {
    const rig = makeRig({ profile: { kind: 'limited-cache', cacheChunks: 4, extraChunks: 2 } });
    const out = referenceStage(rig, image);
    expect(out.result).toBe('OK');
    expect(out.offsets).toEqual([...inOrder(len), 0, PAGE]);
  });

  it('limited-cache, cache of 1 and rerequestProbability 1: every chunk twice, exactly 2x', () => {
    const rig = makeRig({ profile: { kind: 'limited-cache', cacheChunks: 1, rerequestProbability: 1 } });
    const out = referenceStage(rig, image);
    expect(out.result).toBe('OK');
    expect(out.offsets).toEqual(inOrder(len).flatMap((o) => [o, o]));
    expect(out.bytesSent).toBe(2 * len);
  });

  it('limited-cache with rerequestProbability: seeded, deterministic re-requests', () => {
    const big = buildImage(40 * PAGE);
    const profile = { kind: 'limited-cache', cacheChunks: 4, rerequestProbability: 0.5 } as const;
    const run = (seed: number) => {
      const rig = makeRig({ profile, seed });
      return { out: referenceStage(rig, big), device: rig.device };
    };
    const a = run(7);
    const b = run(7);
    expect(a.out.result).toBe('OK');
    expect(a.out.offsets).toEqual(b.out.offsets);
    expect(a.device.transactions).toEqual(b.device.transactions);
    expect(a.device.stats.rerequests).toBeGreaterThan(0);
    expect(a.out.bytesSent).toBe(40 * PAGE + a.device.stats.rerequests * PAGE);
    // A re-request is for a chunk of the window just finished, then the transfer carries on.
    const seen = new Set<number>();
    let repeats = 0;
    for (const o of a.out.offsets) {
      if (seen.has(o)) repeats++;
      seen.add(o);
    }
    expect(repeats).toBe(a.device.stats.rerequests);
    const patterns = new Set([1, 2, 3, 4, 5, 6].map((s) => run(s).out.offsets.join(',')));
    expect(patterns.size).toBeGreaterThan(1);
  });

  it('slow: each transaction takes chunkNs and the host waits for it', () => {
    const chunkNs = 5_500_000;
    const fast = referenceStage(makeRig(), image);
    const rig = makeRig({ profile: { kind: 'slow', chunkNs } });
    const out = referenceStage(rig, image);
    expect(out.result).toBe('OK');
    for (const t of rig.device.transactions) expect(t.readyNs - t.goNs).toBe(chunkNs);
    expect(out.elapsedNs).toBeGreaterThanOrEqual(11 * chunkNs);
    // Polling in 1 ms steps: 6 polls per chunk instead of 1.
    expect(out.elapsedNs - fast.elapsedNs).toBeGreaterThanOrEqual(11 * 5 * 1_000_000);
  });
});

describe('mailbox device: transfers, ABORT and determinism', () => {
  it('ABORT mid-transfer discards the partial transfer; the next one starts at offset 0', () => {
    const rig = makeRig();
    const image = buildImage(6 * PAGE);
    rig.bus.writel(CTRL_ABORT, rig.va + CONTROL);
    for (let i = 0; i < 3; i++) {
      writeRequest(rig, image.subarray(i * PAGE, (i + 1) * PAGE));
      rig.bus.writel(CTRL_GO, rig.va + CONTROL);
      expect(pollStatus(rig)).toBe(ST_READY);
      expect(readResponse(rig)[2]).toBe((i + 1) * PAGE);
    }
    expect(rig.device.inProgress()).toBe(true);
    rig.bus.writel(CTRL_ABORT, rig.va + CONTROL);
    expect(rig.device.inProgress()).toBe(false);
    const other = buildImage(2 * PAGE + 8, { revision: 0x99 });
    const out = referenceStage(rig, other);
    expect(out.result).toBe('OK');
    expect(rig.device.transactions[3]!.offset).toBe(0);
    expect(sameBytes(rig.device.stagedImage(), other)).toBe(true);
    expect(rig.device.stagedRevision()).toBe(0x99);
  });

  it('a new transfer after completion works; a fresh ABORT discards the staged copy', () => {
    const rig = makeRig();
    const a = buildImage(3 * PAGE, { revision: 0x10 });
    const b = buildImage(5 * PAGE - 4, { revision: 0x11 });
    expect(referenceStage(rig, a).result).toBe('OK');
    expect(rig.device.stagedRevision()).toBe(0x10);
    rig.bus.writel(CTRL_ABORT, rig.va + CONTROL);
    expect(rig.device.stagedImage()).toBeUndefined();
    expect(rig.device.stagedRevision()).toBeUndefined();
    expect(referenceStage(rig, b).result).toBe('OK');
    expect(sameBytes(rig.device.stagedImage(), b)).toBe(true);
    expect(rig.device.stagedRevision()).toBe(0x11);
    expect(rig.device.stats.completions).toBe(2);
    expect(rig.device.stats.aborts).toBe(3);
  });

  it('the same seed gives identical transaction records', () => {
    const image = buildImage(30 * PAGE + 12);
    const run = () => {
      const rig = makeRig({
        seed: 1234,
        profile: { kind: 'limited-cache', cacheChunks: 3, rerequestProbability: 0.4 },
        faults: [{ kind: 'response-error', probability: 0.02 }],
      });
      const out = referenceStage(rig, image);
      return { out, transactions: rig.device.transactions, stats: rig.device.stats };
    };
    const first = run();
    const second = run();
    expect(second.transactions).toEqual(first.transactions);
    expect(second.out).toEqual(first.out);
    expect(second.stats).toEqual(first.stats);
  });

  it('a chunk corrupted on the way fails verification: response error, EPROTO, no staged copy', () => {
    const rig = makeRig();
    const image = buildImage(3 * PAGE + 100);
    const corrupted = image.slice();
    corrupted[5000] = (corrupted[5000]! ^ 0x40) & 0xff;
    const out = referenceStage(rig, corrupted);
    expect(out.result).toBe('EPROTO');
    expect(out.offsets).toEqual(inOrder(3 * PAGE + 100));
    const last = rig.device.transactions.at(-1)!;
    expect(last.nextOffset).toBe(END_OFFSET);
    expect(last.respStatus).toBe(0x4);
    expect(rig.device.stagedImage()).toBeUndefined();
    expect(rig.device.stagedRevision()).toBeUndefined();
    expect(rig.device.inProgress()).toBe(false);
    expect(rig.device.stats.completions).toBe(0);
  });

  it('rejects an image whose header announces an impossible length (response error)', () => {
    const rig = makeRig();
    const image = buildImage(PAGE);
    new DataView(image.buffer).setUint32(32, 4095, true); // total size not a multiple of 4
    const out = referenceStage(rig, image);
    expect(out.result).toBe('EPROTO');
    expect(rig.device.transactions[0]).toMatchObject({ nextOffset: END_OFFSET, respStatus: 0x4 });
    expect(rig.device.misuse).toEqual([]);
  });

  it('RDDATA reads after the response are refused', () => {
    const rig = makeRig();
    expect(referenceStage(rig, buildImage(64)).result).toBe('OK');
    expect(rig.bus.readl(rig.va + RDDATA)).toBe(0);
    expect(rig.device.misuse.map((m) => m.kind)).toEqual(['read-not-ready']);
  });
});
