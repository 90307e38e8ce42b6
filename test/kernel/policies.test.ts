import { describe, expect, it } from 'vitest';
import { transactionLimit } from '../../src/kernel/intel/staging.js';
import { KERNEL_POLICY, stagingPolicyChanges } from '../../src/kernel/policy.js';
import type { DeviceFault } from '../../src/platform/mailbox/config.js';
import { parseArgsTable } from '../../src/sim/option-table.js';
import {
  argsFromSimulateOptions,
  RUN_OPTIONS,
  type RunArgValues,
  simulateOptionsFromArgs,
} from '../../src/sim/run-args.js';
import type { SimulateOptions } from '../../src/sim/simulate.js';
import { image, machine, NEW_REV, run, texts } from './helpers.js';

// The policies findings.md proposes, each beside the kernel's behaviour it changes.

const IMG_BYTES = 64 * 1024; // 16 chunks
const CHUNKS = IMG_BYTES / 4096;
const img = () => image({ bytes: IMG_BYTES });
const FOUR = machine({ packages: 4 });

function sticky(offset: DeviceFault['offset'], at = 3): DeviceFault {
  return { kind: 'respond', atTransaction: at, offset, sticky: true };
}

function everywhere(...faults: DeviceFault[]) {
  return machine({ packageConfig: [{ faults }, { faults }] });
}

describe('stage-order=parallel', () => {
  it('stages every package at once: the step takes one package, not four', () => {
    const serial = run(FOUR, { img: img() });
    const parallel = run(FOUR, { img: img(), policy: { stageOrder: 'parallel' } });
    const one = serial.staging.packages[0]!;
    const onePass = one.endNs - one.startNs;
    expect(serial.staging.durationNs).toBeGreaterThan(3.9 * onePass);
    expect(parallel.staging.ok).toBe(true);
    expect(parallel.staging.packages.map((p) => p.pkg)).toEqual([0, 1, 2, 3]);
    // All four start together (after the four cross-calls) and end together.
    const starts = new Set(parallel.staging.packages.map((p) => p.startNs));
    expect(starts.size).toBe(1);
    expect(parallel.staging.durationNs).toBeLessThan(1.1 * onePass);
    // Same transfers, same stop window: every core used its package's staged copy.
    expect(parallel.applies.every((a) => a.staged)).toBe(true);
    expect(parallel.stopWindow!.durationNs).toBe(serial.stopWindow!.durationNs);
    expect(parallel.cpus.every((c) => c.revisionAfter === NEW_REV)).toBe(true);
  });

  it("prints the kernel's success line, marked as coming from a staging step that is not 6.19's", () => {
    const r = run(FOUR, { img: img(), policy: { stageOrder: 'parallel' } });
    const line = r.log.find((l) => l.text.startsWith('microcode: Staging of patch revision'))!;
    expect(line.text).toBe(`microcode: Staging of patch revision 0x${NEW_REV.toString(16)} succeeded.`);
    expect(line.mark?.kind).toBe('ours');
    expect(line.mark?.note).toContain('stage-order=parallel');
    expect(line.timeNs).toBe(r.staging.endNs);
    // The kernel's own run marks nothing.
    expect(run(FOUR, { img: img() }).log.some((l) => l.mark)).toBe(false);
  });

  it('the earliest failure in time is the one reported, with its print-once line before it', () => {
    const r = run(
      machine({
        packages: 4,
        packageConfig: [
          {},
          { faults: [{ kind: 'bad-header', atTransaction: 10 }] },
          { faults: [{ kind: 'error-status', atTransaction: 12 }] },
          { faults: [{ kind: 'bad-header', atTransaction: 3 }] },
        ],
      }),
      { img: img(), policy: { stageOrder: 'parallel' } },
    );
    expect(r.staging.ok).toBe(false);
    expect(r.staging.errno).toBe(-53);
    expect(r.staging.failedPackage).toBe(3);
    // Each worker ran to its own end: package 1 and 2 failed later, package 0 completed.
    expect(r.staging.packages.map((p) => p.errno)).toEqual([0, -53, -5, -53]);
    const log = texts(r);
    const fail = log.indexOf(
      `microcode: Error: staging failed (-53) for CPU${r.staging.failedCpu} at package 3.`,
    );
    expect(fail).toBeGreaterThan(0);
    expect(log[fail - 1]).toBe('microcode: staging: invalid response header (0xb8086)');
    expect(log.filter((l) => l.includes('Error: staging failed')).length).toBe(1);
    const times = r.log.map((l) => l.timeNs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Package 0 staged; the others' cores loaded unstaged.
    expect(r.applies.filter((a) => a.staged).map((a) => r.cpus[a.cpu]!.package)).toEqual([0, 0, 0, 0]);
  });

  it("a package staged more than once (the kernel's dedupe on interleaved numbering) stages it in turn on its worker", () => {
    const m = machine({ numbering: { packages: 'interleaved', smt: 'last' } });
    const serial = run(m, { img: img() });
    const parallel = run(m, { img: img(), policy: { stageOrder: 'parallel' } });
    expect(serial.staging.packages.length).toBe(8);
    expect(parallel.staging.packages.length).toBe(8);
    for (const pkg of [0, 1]) {
      const mine = parallel.staging.packages.filter((p) => p.pkg === pkg);
      expect(mine.length).toBe(4);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.startNs).toBe(mine[i - 1]!.endNs);
    }
    expect(parallel.staging.durationNs).toBeLessThan(0.55 * serial.staging.durationNs);
  });

  it('a package whose device never lets do_stage() end: the step never returns, the others staged', () => {
    const r = run(machine({ packageConfig: [{}, { faults: [sticky('len')] }] }), {
      img: img(),
      policy: { stageOrder: 'parallel' },
    });
    expect(r.outcome).toBe('kernel-does-not-terminate');
    expect(r.staging.reason).toBe('does-not-terminate');
    expect(r.staging.failedPackage).toBe(1);
    expect(r.staging.packages[0]!.errno).toBe(0);
    expect(r.devices[0]!.stagedAtNs).not.toBeNull();
    expect(r.writeReturn).toBeNull();
  });
});

describe('poll=fine, poll-wait', () => {
  const dead = machine({ packageConfig: [{ faults: [{ kind: 'never-ready', atTransaction: 0 }] }, {}] });

  it("readl-poll-timeout: a dead mailbox costs 10 s whatever HZ and msleep's rounding", () => {
    for (const hz of [100, 250, 1000] as const) {
      for (const kernelGeneration of ['6.12+', 'pre-6.12'] as const) {
        const cost = { hz, kernelGeneration };
        const kernel = run(dead, { img: img(), cost });
        const pass = kernel.staging.packages[0]!;
        expect(pass.errno).toBe(-110);
        expect(pass.polls).toBe(10_000);
        // 10,000 msleep(1): 10-20 s at HZ 1000, 100-300 s at HZ 100.
        expect(pass.endNs - pass.startNs).toBeGreaterThanOrEqual((10_000 * 1e9) / hz);
        const proposed = run(dead, {
          img: img(),
          cost,
          policy: { poll: 'fine', pollWait: 'readl-poll-timeout', pollUs: 100 },
        });
        const p = proposed.staging.packages[0]!;
        expect(p.errno).toBe(-110);
        expect(p.endNs - p.startNs).toBeGreaterThan(10e9);
        expect(p.endNs - p.startNs).toBeLessThan(10.001e9);
      }
    }
  });

  it('readl-poll-timeout reads before it sleeps; usleep-range sleeps twice pollUs; udelay pollUs', () => {
    const slowChunk = machine({
      packageConfig: [
        { profile: { kind: 'slow', chunkNs: 1_000_000 } },
        { profile: { kind: 'slow', chunkNs: 1_000_000 } },
      ],
    });
    const polls = (pollWait: 'udelay' | 'usleep-range' | 'readl-poll-timeout') =>
      run(slowChunk, { img: img(), policy: { poll: 'fine', pollWait, pollUs: 100 } }).staging.packages[0]!
        .polls;
    // READY 1 ms after GO: ~10 reads 100 us apart (udelay), ~5 at 200 us (usleep_range's upper end).
    expect(polls('udelay') / CHUNKS).toBeCloseTo(10, 0);
    expect(polls('usleep-range') / CHUNKS).toBeCloseTo(5, 0);
    expect(polls('readl-poll-timeout') / CHUNKS).toBeCloseTo(11, 0);
  });

  it('a staging transaction no longer sleeps to the next jiffy', () => {
    const kernel = run(machine(), { img: img(), cost: { hz: 250 } });
    const fine = run(machine(), {
      img: img(),
      cost: { hz: 250 },
      policy: { poll: 'fine', pollWait: 'readl-poll-timeout' },
    });
    // 16 transactions of two 4 ms jiffies each, against about 0.2 ms each.
    expect(kernel.staging.durationNs).toBeGreaterThan(2 * 16 * 7.9e6);
    expect(fine.staging.durationNs).toBeLessThan(2 * 16 * 0.25e6);
    expect(fine.log.find((l) => l.text.includes('succeeded'))?.mark?.note).toContain(
      'poll=fine (poll-wait=readl-poll-timeout, poll-us=10)',
    );
  });
});

describe('transaction-limit=2x', () => {
  it('bounds the device that answers the image length for ever (6.19 never returns)', () => {
    const m = everywhere(sticky('len'));
    expect(run(m, { img: img() }).outcome).toBe('kernel-does-not-terminate');
    const r = run(m, { img: img(), policy: { transactionLimit: '2x' } });
    expect(r.outcome).toBe('updated');
    expect(r.staging.errno).toBe(-90);
    expect(r.staging.packages[0]!.chunks).toBe(transactionLimit(IMG_BYTES));
    expect(transactionLimit(IMG_BYTES)).toBe(2 * CHUNKS);
    const line = r.log.find((l) => l.text.includes('Error: staging failed (-90)'))!;
    expect(line.mark?.note).toContain('transaction-limit=2x');
  });

  it('bounds an unaligned offset near the end, which 6.19 lets add a byte at a time', () => {
    const m = everywhere(sticky('len-1'));
    const kernel = run(m, { img: img() });
    // 4 whole chunks (the 4th is answered len - 1), then one byte a request until
    // bytes_sent would pass 2 x len.
    expect(kernel.staging.packages[0]!.chunks).toBe(4 + (2 * IMG_BYTES - 4 * 4096));
    const r = run(m, { img: img(), policy: { transactionLimit: '2x' } });
    expect(r.staging.packages[0]!.chunks).toBe(2 * CHUNKS);
  });

  it("leaves a device that needs exactly twice the image alone (the kernel's budget case)", () => {
    const profile = {
      kind: 'limited-cache' as const,
      cacheChunks: 4,
      verifyPass: true,
      rerequestProbability: 0,
    };
    const r = run(machine({ packageConfig: [{ profile }, { profile }] }), {
      img: img(),
      policy: { transactionLimit: '2x' },
    });
    expect(r.staging.ok).toBe(true);
    expect(r.staging.packages[0]!.chunks).toBe(2 * CHUNKS);
  });
});

describe('offset-check=strict', () => {
  it('refuses the image length and unaligned offsets at the first such answer, with a line of ours', () => {
    for (const [offset, shown] of [
      ['len', IMG_BYTES],
      ['chunk+2', 3 * 4096 + 2],
      ['len-1', IMG_BYTES - 1],
    ] as const) {
      const r = run(everywhere(sticky(offset)), { img: img(), policy: { offsetCheck: 'strict' } });
      expect(r.outcome).toBe('updated');
      expect(r.staging.errno).toBe(-22);
      expect(r.staging.packages[0]!.chunks).toBe(4);
      const line = r.log.find((l) => l.text.includes('staging: invalid offset'))!;
      expect(line.text).toBe(
        `microcode: staging: invalid offset (${shown}) for the image (${IMG_BYTES} bytes): at its end or not 4-byte aligned`,
      );
      expect(line.mark?.kind).toBe('ours');
    }
  });

  it("keeps the kernel's own check and line for an offset past the end", () => {
    const r = run(everywhere(sticky('len+4')), { img: img(), policy: { offsetCheck: 'strict' } });
    expect(texts(r)).toContain(
      `microcode: staging: invalid offset (${IMG_BYTES + 4}) past the image end (${IMG_BYTES})`,
    );
  });

  it('changes nothing for a device that follows the protocol', () => {
    const r = run(machine(), { img: img(), policy: { offsetCheck: 'strict', transactionLimit: '2x' } });
    expect(r.staging.ok).toBe(true);
    expect(r.staging.chunks).toBe(2 * CHUNKS);
  });
});

describe('the new policies in the run grammar', () => {
  it('are off by default and named in the marks only when set', () => {
    expect(KERNEL_POLICY).toMatchObject({
      stageOrder: 'serial',
      pollWait: 'udelay',
      transactionLimit: 'none',
      offsetCheck: 'kernel',
    });
    expect(stagingPolicyChanges(KERNEL_POLICY)).toEqual([]);
    expect(stagingPolicyChanges({ ...KERNEL_POLICY, stageOrder: 'parallel', offsetCheck: 'strict' })).toEqual(
      ['stage-order=parallel', 'offset-check=strict'],
    );
  });

  it('simulate options -> flags -> simulate options', () => {
    const opts: SimulateOptions = {
      machine: 'gnr-8s',
      policy: {
        poll: 'fine',
        pollUs: 50,
        pollWait: 'readl-poll-timeout',
        stageOrder: 'parallel',
        transactionLimit: '2x',
        offsetCheck: 'strict',
      },
    };
    const args = argsFromSimulateOptions(opts);
    expect(args.join(' ')).toBe(
      '--machine gnr-8s --poll fine --poll-us 50 --poll-wait readl-poll-timeout --stage-order parallel --transaction-limit 2x --offset-check strict',
    );
    const table = parseArgsTable(RUN_OPTIONS);
    const values: RunArgValues = {};
    for (let i = 0; i < args.length; i += 2) {
      const name = args[i]!.slice(2);
      expect(table[name]).toBeDefined();
      values[name] = args[i + 1]!;
    }
    expect(simulateOptionsFromArgs(values, 'gnr-8s', 1376)).toEqual(opts);
    expect(() => simulateOptionsFromArgs({ 'stage-order': 'sideways' }, 'up', 1)).toThrow(
      /--stage-order must be one of serial, parallel/,
    );
  });
});
