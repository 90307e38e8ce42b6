import { describe, expect, it } from 'vitest';
import type { MisuseKind } from '../../src/platform/mailbox/device.js';
import {
  buildImage,
  CMD_LOAD,
  CONTROL,
  CTRL_ABORT,
  CTRL_GO,
  HEADER_LOW,
  makeRig,
  PAGE,
  pollStatus,
  RDDATA,
  type Rig,
  readResponse,
  referenceStage,
  ST_ERROR,
  ST_READY,
  STATUS,
  sameBytes,
  WRDATA,
  writeRequest,
} from '../support/reference-host.js';

const IMAGE = buildImage(3 * PAGE + 100);
const ERROR_READY = (ST_ERROR | ST_READY) >>> 0;

function reset(rig: Rig): void {
  rig.bus.writel(CTRL_ABORT, rig.va + CONTROL);
}
function go(rig: Rig): void {
  rig.bus.writel(CTRL_GO, rig.va + CONTROL);
}
/** One well-formed transaction for the chunk at `offset`, response read and acknowledged. */
function transact(rig: Rig, offset: number, image = IMAGE): number {
  writeRequest(rig, image.subarray(offset, Math.min(offset + PAGE, image.length)));
  go(rig);
  expect(pollStatus(rig)).toBe(ST_READY);
  return readResponse(rig)[2];
}

/**
 * The misuse was recorded once, STATUS says ERROR|READY, the next GO carries
 * it, further misuse is not recorded again, and ABORT brings the device back.
 */
function expectCaught(rig: Rig, kind: MisuseKind): void {
  expect(rig.device.misuse.map((m) => m.kind)).toEqual([kind]);
  expect(rig.device.misuse[0]!.detail.length).toBeGreaterThan(0);
  expect(rig.bus.readl(rig.va + STATUS)).toBe(ERROR_READY);
  go(rig);
  expect(rig.device.transactions.at(-1)).toMatchObject({
    misuse: kind,
    statusBits: ERROR_READY,
    nextOffset: -1,
  });
  rig.bus.writel(1, rig.va + RDDATA); // more misuse while in ERROR: not recorded again
  expect(rig.device.misuse).toHaveLength(1);
  const out = referenceStage(rig, IMAGE);
  expect(out.result).toBe('OK');
  expect(sameBytes(rig.device.stagedImage(), IMAGE)).toBe(true);
}

describe('mailbox misuse: request side', () => {
  it('no-reset: WRDATA before any ABORT since power-on', () => {
    const rig = makeRig();
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    expectCaught(rig, 'no-reset');
  });

  it('no-reset: GO before any ABORT since power-on', () => {
    const rig = makeRig();
    go(rig);
    expect(rig.device.transactions[0]!.misuse).toBe('no-reset');
    expectCaught(rig, 'no-reset');
  });

  it('request-header: size field does not match the dwords written', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, 400), [HEADER_LOW, (16 + PAGE) / 4, CMD_LOAD, 0]);
    go(rig);
    expect(rig.device.misuse[0]!.detail).toContain('104 dwords written');
    expectCaught(rig, 'request-header');
  });

  it('request-header: wrong vendor', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE), [0x000b_8087, (16 + PAGE) / 4, CMD_LOAD, 0]);
    go(rig);
    expectCaught(rig, 'request-header');
  });

  it('request-header: wrong object type', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE), [0x000a_8086, (16 + PAGE) / 4, CMD_LOAD, 0]);
    go(rig);
    expectCaught(rig, 'request-header');
  });

  it('request-header: GO with fewer than 4 dwords', () => {
    const rig = makeRig();
    reset(rig);
    rig.bus.writel(HEADER_LOW, rig.va + WRDATA);
    go(rig);
    expectCaught(rig, 'request-header');
  });

  it('request-command: command is not LOAD', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE), [HEADER_LOW, (16 + PAGE) / 4, 2, 0]);
    go(rig);
    expectCaught(rig, 'request-command');
  });

  it('chunk-length: a first chunk shorter than the image needs', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, 4000));
    go(rig);
    expect(rig.device.misuse[0]!.detail).toContain('expected 4096');
    expectCaught(rig, 'chunk-length');
  });

  it('chunk-length: the last chunk padded to a full page', () => {
    const rig = makeRig();
    reset(rig);
    for (let off = 0; off < 3 * PAGE; off += PAGE) transact(rig, off);
    const padded = new Uint8Array(PAGE);
    padded.set(IMAGE.subarray(3 * PAGE));
    writeRequest(rig, padded);
    go(rig);
    expectCaught(rig, 'chunk-length');
  });

  it('chunk-length: an empty chunk', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, new Uint8Array(0));
    go(rig);
    expectCaught(rig, 'chunk-length');
  });

  it('chunk-mismatch: the device asked for a chunk again and the host sent another one', () => {
    const rig = makeRig({ profile: { kind: 'limited-cache', cacheChunks: 1, rerequestProbability: 1 } });
    reset(rig);
    expect(transact(rig, 0)).toBe(0); // asked again for offset 0
    writeRequest(rig, IMAGE.subarray(PAGE, 2 * PAGE)); // host moves on regardless
    go(rig);
    expect(rig.device.transactions[1]!.misuse).toBe('chunk-mismatch');
    expectCaught(rig, 'chunk-mismatch');
  });

  it('overflow: more than 4 + 1024 dwords before GO', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    rig.bus.writel(0xdead_beef, rig.va + WRDATA);
    expect(rig.bus.readl(rig.va + STATUS)).toBe(ERROR_READY);
    expectCaught(rig, 'overflow');
  });

  it('request-after-end: a new request after completion without ABORT', () => {
    const rig = makeRig();
    expect(referenceStage(rig, IMAGE).result).toBe('OK');
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    go(rig);
    // The completed copy is only discarded by ABORT.
    expect(sameBytes(rig.device.stagedImage(), IMAGE)).toBe(true);
    expectCaught(rig, 'request-after-end');
  });

  it('request-after-end: a new request after a failed verification without ABORT', () => {
    const rig = makeRig();
    const bad = IMAGE.slice();
    bad[200] = (bad[200]! + 1) & 0xff;
    expect(referenceStage(rig, bad).result).toBe('EPROTO');
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    go(rig);
    expectCaught(rig, 'request-after-end');
  });

  it('request-after-error: carrying on after a fault ERROR without ABORT', () => {
    const rig = makeRig({ faults: [{ kind: 'error-status', atTransaction: 1 }] });
    reset(rig);
    transact(rig, 0);
    writeRequest(rig, IMAGE.subarray(PAGE, 2 * PAGE));
    go(rig);
    expect(pollStatus(rig)).toBe(ERROR_READY);
    expect(rig.device.misuse).toEqual([]);
    rig.bus.writel(HEADER_LOW, rig.va + WRDATA);
    expectCaught(rig, 'request-after-error');
  });
});

describe('mailbox misuse: response side', () => {
  it('read-not-ready: RDDATA read before READY', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    go(rig);
    expect(rig.bus.readl(rig.va + RDDATA)).toBe(0);
    expectCaught(rig, 'read-not-ready');
  });

  it('read-not-ready: a fifth response dword', () => {
    const rig = makeRig();
    reset(rig);
    transact(rig, 0);
    rig.bus.readl(rig.va + RDDATA);
    expectCaught(rig, 'read-not-ready');
  });

  it('request-before-ack: a new request after reading only 2 response dwords', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    go(rig);
    pollStatus(rig);
    for (let i = 0; i < 2; i++) {
      rig.bus.readl(rig.va + RDDATA);
      rig.bus.writel(0, rig.va + RDDATA);
    }
    writeRequest(rig, IMAGE.subarray(PAGE, 2 * PAGE));
    expectCaught(rig, 'request-before-ack');
  });

  it('request-before-ack: GO again before READY', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    go(rig);
    go(rig);
    expect(rig.device.transactions[1]!.misuse).toBe('request-before-ack');
    expectCaught(rig, 'request-before-ack');
  });

  it('double-read: RDDATA read twice without the write-0 acknowledgement', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    go(rig);
    pollStatus(rig);
    expect(rig.bus.readl(rig.va + RDDATA)).toBe(HEADER_LOW);
    rig.bus.readl(rig.va + RDDATA);
    expectCaught(rig, 'double-read');
  });

  it('bad-ack: acknowledging with a value other than 0', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    go(rig);
    pollStatus(rig);
    rig.bus.readl(rig.va + RDDATA);
    rig.bus.writel(1, rig.va + RDDATA);
    expectCaught(rig, 'bad-ack');
  });

  it('bad-ack: acknowledging a dword that was not read', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, PAGE));
    go(rig);
    pollStatus(rig);
    rig.bus.writel(0, rig.va + RDDATA);
    expectCaught(rig, 'bad-ack');
  });

  it('bad-register: a write to STATUS, a read between registers', () => {
    const a = makeRig();
    reset(a);
    a.bus.writel(0, a.va + STATUS);
    expectCaught(a, 'bad-register');
    const b = makeRig();
    reset(b);
    b.bus.readl(b.va + 0x2);
    expectCaught(b, 'bad-register');
  });
});

describe('mailbox misuse: what a spec host sees', () => {
  it('misuse answered with ERROR|READY makes the spec host fail with EIO at once', () => {
    const rig = makeRig();
    reset(rig);
    writeRequest(rig, IMAGE.subarray(0, 4000)); // wrong length
    go(rig);
    expect(pollStatus(rig)).toBe(ERROR_READY);
    expect(rig.device.transactions[0]!.readyNs).toBe(rig.device.transactions[0]!.goNs);
  });

  it('a correct host never trips the checker, under every profile', () => {
    for (const profile of [
      { kind: 'ideal' },
      { kind: 'slow', chunkNs: 3_000_000 },
      { kind: 'limited-cache', cacheChunks: 2, rerequestProbability: 0.5, verifyPass: false },
      { kind: 'limited-cache', cacheChunks: 8, verifyPass: true },
    ] as const) {
      const rig = makeRig({ profile, seed: 11 });
      expect(referenceStage(rig, buildImage(9 * PAGE + 8)).result).toBe('OK');
      expect(rig.device.misuse).toEqual([]);
    }
  });
});
