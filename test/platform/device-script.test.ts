import { describe, expect, it } from 'vitest';
import { MmioBus } from '../../src/platform/bus.js';
import { DEVICE_FAULT_KINDS, DeviceFaultSchema, RESPOND_PARAMS } from '../../src/platform/mailbox/config.js';
import { formatFault, parseFault } from '../../src/sim/run-args.js';
import { VirtualClock } from '../../src/time/clock.js';
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
  STATUS,
  WRDATA,
  writeRequest,
} from '../support/reference-host.js';

// The device can answer anything the protocol allows, one transaction at a
// time (fault `respond`), and the bus answers an address nothing decodes.

const LEN = 4 * PAGE;

function stageOne(fault: NonNullable<Parameters<typeof makeRig>[0]>['faults']) {
  const rig = makeRig({ faults: fault });
  const image = buildImage(LEN, { revision: 0x2b00_0700 });
  return { rig, image, out: referenceStage(rig, image) };
}

describe('respond: a scripted answer', () => {
  it('any next offset: backwards (a re-request) is followed and the transfer completes', () => {
    const { rig, out } = stageOne([{ kind: 'respond', atTransaction: 2, offset: 'chunk-4096' }]);
    expect(out.result).toBe('OK');
    expect(out.offsets).toEqual([0, PAGE, 2 * PAGE, PAGE, 2 * PAGE, 3 * PAGE]);
    // Asking for 4096 again, then for 8192 again (the plan goes on from the chunk it is in).
    expect(rig.device.stats.rerequests).toBe(2);
    expect(rig.device.stagedImage()).toBeDefined();
    expect(rig.device.transactions[2]).toMatchObject({ fault: 'respond', nextOffset: PAGE });
  });

  it('an offset past the end is what the host refuses (-EINVAL)', () => {
    const { out } = stageOne([{ kind: 'respond', atTransaction: 1, offset: 'len+4' }]);
    expect(out.result).toBe('EINVAL');
    expect(out.messages).toEqual([
      `microcode: staging: invalid offset (${LEN + 4}) past the image end (${LEN})`,
    ]);
  });

  it('an offset the device cannot take a chunk at takes it off its script: it ends the transfer with an error', () => {
    const rig = makeRig({ faults: [{ kind: 'respond', atTransaction: 0, offset: 'len' }] });
    rig.bus.writel(CTRL_ABORT, rig.va + CONTROL);
    writeRequest(rig, buildImage(LEN).subarray(0, PAGE));
    rig.bus.writel(CTRL_GO, rig.va + CONTROL);
    pollStatus(rig);
    expect(readResponse(rig)).toEqual([HEADER_LOW, 4, LEN, 0x2]);
    // A header-only request (chunk_size 0) is taken unchecked; the device then gives up.
    writeRequest(rig, new Uint8Array(0));
    rig.bus.writel(CTRL_GO, rig.va + CONTROL);
    pollStatus(rig);
    expect(readResponse(rig)).toEqual([HEADER_LOW, 4, END_OFFSET, 0x4]);
    expect(rig.device.misuse).toEqual([]);
    expect(rig.device.stagedImage()).toBeUndefined();
  });

  it('sticky: every later GO gets the same answer until ABORT', () => {
    const rig = makeRig({ faults: [{ kind: 'respond', atTransaction: 0, offset: 'len', sticky: true }] });
    rig.bus.writel(CTRL_ABORT, rig.va + CONTROL);
    writeRequest(rig, buildImage(LEN).subarray(0, PAGE));
    rig.bus.writel(CTRL_GO, rig.va + CONTROL);
    pollStatus(rig);
    readResponse(rig);
    for (let i = 0; i < 5; i++) {
      writeRequest(rig, new Uint8Array(0));
      rig.bus.writel(CTRL_GO, rig.va + CONTROL);
      pollStatus(rig);
      expect(readResponse(rig)).toEqual([HEADER_LOW, 4, LEN, 0x2]);
    }
    expect(rig.device.transactions.every((t) => t.fault === 'respond')).toBe(true);
    expect(rig.device.stats.faultsFired).toBe(1);
    rig.bus.writel(CTRL_ABORT, rig.va + CONTROL);
    expect(referenceStage(rig, buildImage(LEN)).result).toBe('OK');
  });

  it('status and header dwords, any bits', () => {
    expect(stageOne([{ kind: 'respond', atTransaction: 1, status: 0x4 }]).out.result).toBe('EPROTO');
    // Bits the kernel does not test change nothing.
    expect(stageOne([{ kind: 'respond', atTransaction: 1, status: 0xffff_fffb }]).out.result).toBe('OK');
    const bad = stageOne([{ kind: 'respond', atTransaction: 1, headerHigh: 5 }]).out;
    expect(bad.result).toBe('EBADR');
    expect(bad.messages).toEqual(['microcode: staging: invalid response header (0x5000b8086)']);
  });

  it('STATUS bits: READY with other bits goes on; ERROR or no READY takes no chunk', () => {
    expect(stageOne([{ kind: 'respond', atTransaction: 1, statusBits: 0x8000_0001 }]).out.result).toBe('OK');
    const err = stageOne([{ kind: 'respond', atTransaction: 1, statusBits: 0x8000_0004 }]);
    expect(err.out.result).toBe('EIO');
    expect(err.rig.device.stats.bytesReceived).toBe(2 * PAGE);
    expect(stageOne([{ kind: 'respond', atTransaction: 1, statusBits: 0 }]).out.result).toBe('ETIMEDOUT');
  });

  it("timing: a transaction slower than the host's patience; the copy exists only from its ready time", () => {
    const rig = makeRig({ faults: [{ kind: 'respond', atTransaction: 3, readyNs: 25e9 }] });
    const out = referenceStage(rig, buildImage(LEN, { revision: 0x2b00_0701 }));
    expect(out.result).toBe('ETIMEDOUT');
    const ready = rig.device.stagedReadyNs()!;
    expect(rig.device.stagedImage()).toBeUndefined();
    expect(rig.device.inProgress()).toBe(true);
    rig.clock.now = ready;
    expect(rig.device.stagedImage()).toBeDefined();
    expect(rig.device.stagedRevision()).toBe(0x2b00_0701);
    expect(rig.device.inProgress()).toBe(false);
  });

  it('ABORT before that time discards the transfer', () => {
    const rig = makeRig({ faults: [{ kind: 'respond', atTransaction: 3, readyNs: 25e9 }] });
    referenceStage(rig, buildImage(LEN));
    rig.bus.writel(CTRL_ABORT, rig.va + CONTROL);
    rig.clock.now += 60e9;
    expect(rig.device.stagedImage()).toBeUndefined();
    expect(rig.device.stagedReadyNs()).toBeUndefined();
  });
});

describe('respond in the fault grammar', () => {
  it('every parameter survives format then parse', () => {
    const faults = [
      { kind: 'respond', atTransaction: 3, offset: 'len', sticky: true },
      {
        kind: 'respond',
        probability: 0.25,
        offset: 'chunk-4096',
        status: 0x4,
        headerLow: 0x8086,
        headerHigh: 5,
      },
      { kind: 'respond', offset: 4294967295, statusBits: 0x8000_0004, readyNs: 21e9, sticky: false },
      { kind: 'respond', atTransaction: 0, offset: 'len+4' },
      { kind: 'never-ready', atTransaction: 7 },
    ].map((f) => DeviceFaultSchema.parse(f));
    for (const f of faults) expect(parseFault(formatFault(f))).toEqual(f);
    expect(formatFault(faults[0]!)).toBe('respond@3:offset=len,sticky');
    expect(formatFault(faults[1]!)).toBe(
      'respond%0.25:offset=chunk-4096,status=0x4,headerLow=0x8086,headerHigh=0x5',
    );
  });

  it('reads hex and decimal, refuses parameters on other kinds and unknown keys', () => {
    expect(parseFault('respond@1:statusBits=0x80000004,readyNs=3000000')).toEqual({
      kind: 'respond',
      atTransaction: 1,
      statusBits: 0x8000_0004,
      readyNs: 3e6,
    });
    expect(() => parseFault('never-ready@1:offset=len')).toThrow(/only a respond fault takes/);
    expect(() => parseFault('respond:bogus=1')).toThrow(/unknown parameter 'bogus'/);
    expect(() => parseFault('respond:offset=end')).toThrow();
    expect(RESPOND_PARAMS).toContain('sticky');
    expect(DEVICE_FAULT_KINDS).toContain('respond');
  });
});

describe('the bus: addresses nothing decodes', () => {
  it('ioremap maps them; reads return the platform value, writes are dropped', () => {
    const clock = new VirtualClock();
    const bus = new MmioBus(clock, DEFAULT_COST_MODEL);
    const va = bus.ioremap(0xfed2_0000, 16);
    expect(va).not.toBe(0);
    bus.writel(1, va + CONTROL);
    expect(bus.readl(va + STATUS)).toBe(0xffff_ffff);
    bus.setUndecodedRead(0);
    expect(bus.readl(va + RDDATA)).toBe(0);
    bus.iounmap(va);
    expect(() => bus.readl(va)).toThrow(/unmapped/);
  });

  it('reserved memory (physical 0) reads back what was written', () => {
    const clock = new VirtualClock();
    const bus = new MmioBus(clock, DEFAULT_COST_MODEL);
    const low = Uint32Array.from([0, 0xf000_ff53, 0, 0]);
    bus.attachReserved(0, low);
    const va = bus.ioremap(0, 16);
    expect(bus.readl(va + STATUS)).toBe(0xf000_ff53);
    bus.writel(0x1234, va + WRDATA);
    expect(low[2]).toBe(0x1234);
  });
});
