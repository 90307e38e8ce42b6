import { describe, expect, it } from 'vitest';
import type { DeviceFaultKind } from '../../src/platform/mailbox/config.js';
import {
  buildImage,
  END_OFFSET,
  type HostResult,
  makeRig,
  PAGE,
  POLL_LIMIT,
  POLL_NS,
  RDDATA,
  referenceStage,
  ST_ERROR,
  ST_READY,
  STATUS,
  sameBytes,
} from '../support/reference-host.js';

const LEN = 20 * PAGE + 44;
const IMAGE = buildImage(LEN, { revision: 0x77 });

/** What the spec §5 host returns when each fault fires at a transaction. */
const ERRNO: [Exclude<DeviceFaultKind, 'ignore-abort'>, HostResult][] = [
  ['error-status', 'EIO'],
  ['error-status-not-ready', 'EIO'],
  ['never-ready', 'ETIMEDOUT'],
  ['bad-header', 'EBADR'],
  ['offset-past-end', 'EINVAL'],
  ['response-error', 'EPROTO'],
  ['rerequest-forever', 'EMSGSIZE'],
];

describe('mailbox faults at a chosen transaction', () => {
  it.each(ERRNO)('%s -> %s', (kind, errno) => {
    const rig = makeRig({ faults: [{ kind, atTransaction: 3 }] });
    const out = referenceStage(rig, IMAGE);
    expect(out.result).toBe(errno);
    const tx = rig.device.transactions;
    expect(tx.filter((t) => t.fault !== undefined).map((t) => [t.index, t.fault])).toEqual([[3, kind]]);
    expect(rig.device.stats.faultsFired).toBe(1);
    expect(rig.device.stagedImage()).toBeUndefined();
    expect(rig.device.misuse).toEqual([]);
    if (kind !== 'rerequest-forever') expect(out.transactions).toBe(4);
  });

  it('with neither atTransaction nor probability the fault fires at the first transaction', () => {
    const rig = makeRig({ faults: [{ kind: 'response-error' }] });
    expect(referenceStage(rig, IMAGE).result).toBe('EPROTO');
    expect(rig.device.transactions.map((t) => t.fault)).toEqual(['response-error']);
  });

  it('error-status: STATUS reads ERROR|READY after the processing time, no response', () => {
    const rig = makeRig({ faults: [{ kind: 'error-status', atTransaction: 1 }] });
    referenceStage(rig, IMAGE);
    const t = rig.device.transactions[1]!;
    expect(t).toMatchObject({ statusBits: (ST_ERROR | ST_READY) >>> 0, nextOffset: -1, respStatus: 0 });
    expect(t.readyNs - t.goNs).toBe(100_000);
    expect(rig.bus.readl(rig.va + STATUS)).toBe((ST_ERROR | ST_READY) >>> 0);
    expect(rig.device.inProgress()).toBe(true);
  });

  it('error-status-not-ready: ERROR without READY; the host polls its whole budget', () => {
    const rig = makeRig({ faults: [{ kind: 'error-status-not-ready', atTransaction: 1 }] });
    const out = referenceStage(rig, IMAGE);
    expect(out.result).toBe('EIO');
    expect(out.elapsedNs).toBeGreaterThanOrEqual(POLL_LIMIT * POLL_NS);
    expect(rig.bus.readl(rig.va + STATUS)).toBe(ST_ERROR);
    expect(rig.device.transactions[1]!.statusBits).toBe(ST_ERROR);
  });

  it('never-ready: STATUS stays 0, readyNs is Infinity; ETIMEDOUT after 10,000 polls', () => {
    const rig = makeRig({ faults: [{ kind: 'never-ready', atTransaction: 2 }] });
    const out = referenceStage(rig, IMAGE);
    expect(out.result).toBe('ETIMEDOUT');
    expect(out.elapsedNs).toBeGreaterThanOrEqual(POLL_LIMIT * POLL_NS);
    expect(rig.bus.readl(rig.va + STATUS)).toBe(0);
    expect(rig.device.transactions[2]).toMatchObject({ readyNs: Number.POSITIVE_INFINITY, statusBits: 0 });
    expect(rig.device.inProgress()).toBe(true);
  });

  it('bad-header: the response header has size 0; the host prints it and fails EBADR', () => {
    const rig = makeRig({ faults: [{ kind: 'bad-header', atTransaction: 0 }] });
    const out = referenceStage(rig, IMAGE);
    expect(out.result).toBe('EBADR');
    expect(out.messages).toEqual(['microcode: staging: invalid response header (0xb8086)']);
  });

  it('offset-past-end: next offset is length + 4096, not the end marker (even on the last chunk)', () => {
    const last = Math.ceil(LEN / PAGE) - 1;
    const rig = makeRig({ faults: [{ kind: 'offset-past-end', atTransaction: last }] });
    const out = referenceStage(rig, IMAGE);
    expect(out.result).toBe('EINVAL');
    expect(rig.device.transactions[last]!.nextOffset).toBe(LEN + PAGE);
    expect(out.messages).toEqual([
      `microcode: staging: invalid offset (${LEN + PAGE}) past the image end (${LEN})`,
    ]);
    // The chunk was not taken, so nothing was staged.
    expect(rig.device.stagedImage()).toBeUndefined();
  });

  it('response-error: status bit 2, the chunk is not taken (the device asks for it again)', () => {
    const rig = makeRig({ faults: [{ kind: 'response-error', atTransaction: 4 }] });
    expect(referenceStage(rig, IMAGE).result).toBe('EPROTO');
    expect(rig.device.transactions[4]).toMatchObject({
      offset: 4 * PAGE,
      nextOffset: 4 * PAGE,
      respStatus: 0x4,
    });
  });

  it('rerequest-forever: the same offset again and again until the 2x budget ends it', () => {
    const rig = makeRig({ faults: [{ kind: 'rerequest-forever', atTransaction: 5 }] });
    const out = referenceStage(rig, IMAGE);
    expect(out.result).toBe('EMSGSIZE');
    expect(out.offsets.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * PAGE));
    expect(new Set(out.offsets.slice(5))).toEqual(new Set([5 * PAGE]));
    expect(out.bytesSent).toBeLessThanOrEqual(2 * LEN);
    expect(out.bytesSent + PAGE).toBeGreaterThan(2 * LEN);
    // Every response from the faulted transaction on asks for offset 5 * 4096 again.
    expect(rig.device.stats.rerequests).toBe(out.transactions - 5);
  });
});

describe('mailbox faults with a probability (seeded)', () => {
  it.each(ERRNO)('%s: fires at a seeded transaction; same seed, same records', (kind, errno) => {
    const run = (seed: number) => {
      const rig = makeRig({ seed, faults: [{ kind, probability: 0.15 }] });
      return { out: referenceStage(rig, IMAGE), device: rig.device };
    };
    const a = run(42);
    const b = run(42);
    expect(b.device.transactions).toEqual(a.device.transactions);
    expect(b.out).toEqual(a.out);
    const fired = a.device.transactions.filter((t) => t.fault === kind);
    expect(fired.length).toBeGreaterThanOrEqual(1);
    expect(a.out.result).toBe(errno);
    if (kind !== 'rerequest-forever') expect(fired[0]!.index).toBe(a.out.transactions - 1);
    // Some other seed fires elsewhere.
    const firsts = new Set(
      [1, 2, 3, 4, 5, 6, 7, 8].map((s) => run(s).device.transactions.find((t) => t.fault)?.index ?? -1),
    );
    expect(firsts.size).toBeGreaterThan(1);
  });

  it('probability 0 never fires; probability 1 fires at every transaction', () => {
    const never = makeRig({ faults: [{ kind: 'response-error', probability: 0 }] });
    expect(referenceStage(never, IMAGE).result).toBe('OK');
    const always = makeRig({ faults: [{ kind: 'bad-header', probability: 1 }] });
    expect(referenceStage(always, IMAGE).result).toBe('EBADR');
    expect(always.device.transactions[0]!.fault).toBe('bad-header');
  });

  it('adding a fault does not change the seeded re-request pattern before it fires', () => {
    const profile = { kind: 'limited-cache', cacheChunks: 2, rerequestProbability: 0.5 } as const;
    const plain = makeRig({ seed: 9, profile });
    const faulty = makeRig({ seed: 9, profile, faults: [{ kind: 'response-error', atTransaction: 12 }] });
    const a = referenceStage(plain, IMAGE);
    const b = referenceStage(faulty, IMAGE);
    expect(b.offsets).toEqual(a.offsets.slice(0, 13));
  });
});

describe('mailbox fault ignore-abort: the next ABORT is ignored, stale state stays', () => {
  it('after a completed transfer: the next staging hits "request after end" and fails EIO; the one after works', () => {
    const rig = makeRig({ faults: [{ kind: 'ignore-abort', atTransaction: 0 }] });
    const first = referenceStage(rig, IMAGE);
    expect(first.result).toBe('OK');
    expect(rig.device.transactions[0]!.fault).toBe('ignore-abort');
    const update = buildImage(LEN, { revision: 0x78, seed: 5 });
    const second = referenceStage(rig, update);
    expect(second.result).toBe('EIO');
    expect(second.transactions).toBe(1);
    expect(rig.device.misuse).toHaveLength(1);
    expect(rig.device.misuse[0]!.kind).toBe('request-after-end');
    expect(rig.device.misuse[0]!.detail).toContain('ABORT was ignored');
    // The stale staged copy of the first image is still there.
    expect(rig.device.stagedRevision()).toBe(0x77);
    // One-shot: the next ABORT works again.
    expect(referenceStage(rig, update).result).toBe('OK');
    expect(rig.device.stagedRevision()).toBe(0x78);
    expect(rig.device.stats.aborts).toBe(3);
  });

  it('after an interrupted transfer: the new first chunk lands at the stale offset, verification fails (EPROTO)', () => {
    const rig = makeRig({
      faults: [
        { kind: 'ignore-abort', atTransaction: 1 },
        { kind: 'response-error', atTransaction: 2 },
      ],
    });
    expect(referenceStage(rig, IMAGE).result).toBe('EPROTO');
    expect(rig.device.inProgress()).toBe(true);
    const again = referenceStage(rig, IMAGE);
    expect(again.result).toBe('EPROTO');
    // The host sent chunk 0, the device stored it at offset 8192 and carried on from there.
    const restaged = rig.device.transactions.slice(3);
    expect(restaged[0]!.offset).toBe(2 * PAGE);
    expect(again.offsets.slice(0, 2)).toEqual([0, 3 * PAGE]);
    expect(restaged.at(-1)).toMatchObject({ nextOffset: END_OFFSET, respStatus: 0x4 });
    expect(rig.device.stagedImage()).toBeUndefined();
    expect(rig.device.misuse).toEqual([]);
  });

  it('after an interrupted transfer of a longer image: the stale length shows as a chunk-length misuse (EIO)', () => {
    const long = buildImage(3 * PAGE + 40);
    const rig = makeRig({
      faults: [
        { kind: 'ignore-abort', atTransaction: 0 },
        { kind: 'response-error', atTransaction: 3 },
      ],
    });
    expect(referenceStage(rig, long).result).toBe('EPROTO');
    // The device still waits for the 40-byte tail at 12288 of the old image.
    const out = referenceStage(rig, buildImage(3 * PAGE + 400));
    expect(out.result).toBe('EIO');
    expect(rig.device.misuse.map((m) => m.kind)).toEqual(['chunk-length']);
    expect(rig.device.transactions.at(-1)!.misuse).toBe('chunk-length');
  });

  it('with a probability: seeded, the same seed gives the same records', () => {
    const run = () => {
      const rig = makeRig({ seed: 3, faults: [{ kind: 'ignore-abort', probability: 0.1 }] });
      const a = referenceStage(rig, IMAGE);
      const b = referenceStage(rig, IMAGE);
      return { a, b, transactions: rig.device.transactions };
    };
    const x = run();
    const y = run();
    expect(y.transactions).toEqual(x.transactions);
    expect(x.a.result).toBe('OK');
    expect(x.transactions.some((t) => t.fault === 'ignore-abort')).toBe(true);
    expect(x.b.result).toBe('EIO');
  });

  it('reading RDDATA after a fault ERROR is recorded as misuse', () => {
    const rig = makeRig({ faults: [{ kind: 'error-status', atTransaction: 0 }] });
    expect(referenceStage(rig, IMAGE).result).toBe('EIO');
    rig.bus.readl(rig.va + RDDATA);
    expect(rig.device.misuse.map((m) => m.kind)).toEqual(['read-not-ready']);
  });

  it('a fault-free stage of the same image still works after every fault once ABORTed', () => {
    for (const [kind] of ERRNO) {
      const rig = makeRig({ faults: [{ kind, atTransaction: 1 }] });
      referenceStage(rig, IMAGE);
      expect(referenceStage(rig, IMAGE).result).toBe('OK');
      expect(sameBytes(rig.device.stagedImage(), IMAGE)).toBe(true);
    }
  });
});
