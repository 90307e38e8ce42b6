import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  argsFromSimulateOptions,
  compare,
  compareJson,
  compareSucceeded,
  DEFAULT_SPACE,
  formatCompareTable,
  parseArgsTable,
  RUN_OPTIONS,
  resolveMachine,
  runCampaign,
  type SimulateOptions,
  SimulationInputError,
  simulate,
  simulateOptionsFromArgs,
} from '../../src/index.js';

// What a library user can do is what the CLI does: these call only src/index.ts.

describe('machine files with "extends" through the library', () => {
  it('simulate() takes a machine file object that extends a preset', () => {
    const r = simulate({
      machine: { extends: 'gnr-2s', name: 'gnr-small', coresPerPackage: 4 },
      syntheticImageBytes: 16 * 1024,
    });
    expect(r.machine.name).toBe('gnr-small');
    expect(r.machine.cpus).toBe(16);
    expect(r.outcome).toBe('updated');
  });

  it('resolveMachine lays the overrides over the preset', () => {
    const spec = resolveMachine(
      { extends: 'gnr-2s', coresPerPackage: 2 },
      { faults: [{ pkg: 1, value: { kind: 'never-ready', atTransaction: 3 } }], cost: { hz: 250 } },
    );
    expect(spec.packageConfig[1]!.faults).toEqual([{ kind: 'never-ready', atTransaction: 3 }]);
    expect(spec.packageConfig[0]!.faults).toEqual([]);
    expect(spec.cost.hz).toBe(250);
  });

  it('names that exist on Object.prototype are not presets', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => resolveMachine(name)).toThrow(SimulationInputError);
      expect(() => resolveMachine({ extends: name })).toThrow(SimulationInputError);
    }
  });
});

describe('simulate() validates every option with a typed error', () => {
  const bad: [string, SimulateOptions, RegExp][] = [
    ['a negative seed', { seed: -1 }, /option 'seed'/],
    ['a fractional seed', { seed: 1.5 }, /option 'seed'/],
    ['NaN boot time', { bootAtNs: Number.NaN }, /option 'bootAtNs'/],
    ['NaN time limit', { virtualTimeLimitNs: Number.NaN }, /option 'virtualTimeLimitNs'/],
    ['a wrong firmware object', { firmware: {} as never }, /option 'firmware'/],
    ['a tiny image', { syntheticImageBytes: 3 }, /option 'syntheticImageBytes'/],
    ['an image too large', { syntheticImageBytes: 2 ** 40 }, /option 'syntheticImageBytes'/],
    ['an unknown preset', { machine: 'nope' }, /unknown machine preset 'nope'/],
    ['a misspelt option', { seeed: 5 } as SimulateOptions, /option 'seeed': unknown option/],
    [
      'a fault on a missing package',
      { machine: 'up', faults: [{ pkg: 3, value: { kind: 'never-ready' } }] },
      /package 3/,
    ],
    [
      'late-arrival without delay',
      { cpuFaults: [{ cpu: 0, kind: 'late-arrival' }] },
      /late-arrival needs its delay/,
    ],
  ];
  for (const [label, opts, message] of bad) {
    it(label, () => {
      let err: unknown;
      try {
        simulate({ machine: 'up', syntheticImageBytes: 8192, ...opts });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SimulationInputError);
      expect((err as Error).message).toMatch(message);
    });
  }
});

describe('compare()', () => {
  it('runs staging off and on over a sweep and reports the reduction', () => {
    const report = compare(
      { machine: { extends: 'gnr-2s', coresPerPackage: 8 } },
      { sweep: [{ key: 'image-size', values: [64 * 1024, 1024 * 1024], labels: ['64K', '1M'] }] },
    );
    expect(report.points.map((p) => p.label)).toEqual(['image-size=64K', 'image-size=1M']);
    for (const p of report.points) {
      expect(p.off.stagingOk).toBe(false);
      expect(p.on.stagingOk).toBe(true);
      expect(p.stopWindowReductionPct).toBeGreaterThan(0);
    }
    // A larger image has more to gain from staging.
    expect(report.points[1]!.stopWindowReductionPct!).toBeGreaterThan(
      report.points[0]!.stopWindowReductionPct!,
    );
    expect(compareSucceeded(report)).toBe(true);
    expect(JSON.parse(compareJson(report)).schema).toBe('ucode-staging/compare@1');
    expect(formatCompareTable(report.points)).toMatch(/^point\s+image\s+stop off ms/);
  });
});

describe('runCampaign()', () => {
  it('runs a seeded space and checks every invariant', () => {
    const report = runCampaign({ space: DEFAULT_SPACE, runs: 60, seed: 3 });
    expect(report.runs).toBe(60);
    expect(report.failingCount).toBe(0);
    expect(report.invariants.every((i) => i.checks > 0)).toBe(true);
  });
});

describe('the run grammar reads back what it writes', () => {
  it('simulate options → flags → simulate options', () => {
    const opts: SimulateOptions = {
      machine: 'gnr-2s',
      syntheticImageBytes: 65536,
      profiles: [
        {
          value: {
            kind: 'limited-cache',
            cacheChunks: 4,
            rerequestProbability: 0.25,
            verifyPass: true,
            extraChunks: 1,
          },
        },
      ],
      faults: [
        { pkg: 1, value: { kind: 'never-ready', atTransaction: 3 } },
        { value: { kind: 'bad-header', probability: 0.5 } },
      ],
      offlineCpus: [3, 5, 6, 7],
      cpuFaults: [{ cpu: 2, kind: 'late-arrival', delayNs: 2_000_000 }],
      cost: { hz: 250, kernelGeneration: 'pre-6.12', mmioWriteNs: 150 },
      policy: {
        staging: 'require',
        budget: 'per-chunk',
        chunkRetries: 5,
        dedupe: 'distinct',
        poll: 'fine',
        pollUs: 20,
        forceMinrev: true,
      },
      seed: 7,
    };
    const args = argsFromSimulateOptions(opts);
    expect(args).toContain('--offline');
    expect(args[args.indexOf('--offline') + 1]).toBe('3,5-7');
    const { values } = parseArgsLike(args);
    const back = simulateOptionsFromArgs(values, 'gnr-2s', 512);
    expect(back).toEqual(opts);
  });

  it('rejects empty values and ranges beyond the machine before expanding them', () => {
    expect(() => simulateOptionsFromArgs({ hz: '' }, 'up', 1)).toThrow(/--hz expects a value/);
    expect(() => simulateOptionsFromArgs({ offline: '0-999999' }, 'up', 1)).toThrow(/does not exist/);
    expect(() => simulateOptionsFromArgs({ profile: ['slow:bogus=1'] }, 'up', 1)).toThrow(
      /unknown parameter 'bogus'/,
    );
    expect(() => simulateOptionsFromArgs({ 'cpu-fault': ['0=late-arrival'] }, 'up', 1)).toThrow(
      /needs its delay/,
    );
    expect(() => simulateOptionsFromArgs({ fault: ['constructor'] }, 'up', 1)).toThrow(/bad --fault/);
    expect(() => simulateOptionsFromArgs({ profile: ['slow:'] }, 'up', 1)).toThrow(/nothing after ':'/);
    expect(() => simulateOptionsFromArgs({ fault: ['0='] }, 'up', 1)).toThrow(
      /bad --fault '0=': nothing after '0='/,
    );
    expect(() => simulateOptionsFromArgs({ fault: ['\u001b[2J'] }, 'up', 1)).toThrow(/'\\x1b\[2J'/);
  });
});

/** A tiny stand-in for node:util parseArgs over the run table (enough for a round trip). */
function parseArgsLike(args: string[]) {
  const table = parseArgsTable(RUN_OPTIONS);
  const values: Record<string, string | boolean | string[]> = {};
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!.replace(/^--/, '');
    const o = table[name]!;
    if (o.type === 'boolean') values[name] = true;
    else if (o.multiple) values[name] = [...((values[name] as string[]) ?? []), args[++i]!];
    else values[name] = args[++i]!;
  }
  return { values };
}

describe('the built package, imported by name from another package', () => {
  it('does what the CLI does: simulate, compare, a campaign, a machine file with extends', () => {
    const dist = resolve('dist/index.js');
    if (!existsSync(dist)) throw new Error('dist/ is missing: npm test builds it first');
    const app = mkdtempSync(join(tmpdir(), 'ucode-staging-user-'));
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(resolve('.'), join(app, 'node_modules', 'ucode-staging'), 'dir');
    writeFileSync(join(app, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(app, 'main.js'),
      `import { simulate, compare, runCampaign, DEFAULT_SPACE } from 'ucode-staging';
const machine = { extends: 'gnr-2s', coresPerPackage: 4 };
const r = simulate({ machine, syntheticImageBytes: 65536 });
const c = compare({ machine, syntheticImageBytes: 65536 });
const k = runCampaign({ space: DEFAULT_SPACE, runs: 20, seed: 1 });
console.log(JSON.stringify({ cpus: r.machine.cpus, outcome: r.outcome, points: c.points.length, runs: k.runs, failing: k.failingCount }));
`,
    );
    const out = spawnSync(process.execPath, [join(app, 'main.js')], { encoding: 'utf8', cwd: app });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ cpus: 16, outcome: 'updated', points: 1, runs: 20, failing: 0 });
  });
});

describe('names cannot carry control characters to a terminal', () => {
  it('a machine name with an ANSI escape or a newline is refused', () => {
    for (const name of ['evil\u001b[2J', 'two\nlines', 'bell\u0007', 'c1\u009b']) {
      expect(() => resolveMachine({ extends: 'up', name })).toThrow(
        /machine field 'name': control characters/,
      );
    }
    expect(() => resolveMachine({ extends: 'up', description: 'x\r[ 1.0] microcode: forged' })).toThrow(
      /description/,
    );
  });
});

describe('compare() explains what did not update', () => {
  it('a machine sweep names each row machine; a panic is explained in the kernel words', () => {
    const report = compare(
      { syntheticImageBytes: 16 * 1024 * 1024 },
      { sweep: [{ key: 'machine', values: ['gnr-2s', 'srf-2s'] }] },
    );
    const [gnr, srf] = report.points;
    expect(gnr!.off.outcome).toBe('panic');
    expect(gnr!.off.why).toBe('Microcode load: Primary CPU 0 timed out');
    expect(srf!.off.why).toBeNull();
    expect(compareSucceeded(report)).toBe(false);
    const table = formatCompareTable(report.points);
    expect(table).toMatch(/^point\s+machine\s+stop off ms/);
    expect(table).toContain('gnr-2s (512 CPUs)');
    expect(table).toContain('srf-2s (288 CPUs)');
    expect(table).toContain('machine=gnr-2s, staging off: panic: Microcode load: Primary CPU 0 timed out');
  });
});

describe('machine files take hex strings where the JSON outputs print hex', () => {
  it('signature, initialRevision and mailbox addresses', () => {
    const spec = resolveMachine({
      extends: 'up',
      signature: '0xa06d1',
      initialRevision: '0x10003a2',
      mailbox: { base: '0xfed20000', stride: '0x1000', undecodedRead: '0xffffffff' },
    } as never);
    expect(spec.signature).toBe(0xa06d1);
    expect(spec.initialRevision).toBe(0x10003a2);
    expect(spec.mailbox.base).toBe(0xfed20000);
    expect(() => resolveMachine({ extends: 'up', signature: '0xnothex' } as never)).toThrow(
      /machine field 'signature'/,
    );
  });
});

describe('resultJson can leave out the bulky parts', () => {
  it('omits the named parts and lists them', async () => {
    const { resultJson } = await import('../../src/index.js');
    const r = simulate({ machine: 'up', syntheticImageBytes: 65536 });
    const lean = JSON.parse(resultJson(r, { omit: ['trace', 'cpus'] }));
    expect(lean.omitted).toEqual(['trace', 'cpus']);
    expect(lean.trace).toBeUndefined();
    expect(lean.cpus).toBeUndefined();
    expect(lean.revision).toEqual({ old: '0x10003a2', new: '0x10003f0' });
    expect(resultJson(r).length).toBeGreaterThan(resultJson(r, { omit: ['trace'] }).length);
  });
});

describe('the default synthetic image', () => {
  it('means the same on kernels after 6.19: on Granite Rapids it does not jump over 0x1000405 (GNR98 skip)', async () => {
    const { PRESETS: presets, syntheticImageFor, parseMachineSpec } = await import('../../src/index.js');
    for (const name of ['gnr-2s', 'gnr-2s-interleaved', 'gnr-8s', 'up']) {
      const spec = parseMachineSpec(presets[name]);
      const revision = new DataView(syntheticImageFor(spec).buffer).getUint32(4, true);
      expect(revision).toBeGreaterThan(spec.initialRevision);
      // Below the erratum's boundary, as Intel's public 06-ad-01 (0x10003f0) is.
      expect(revision).toBeLessThan(0x1000405);
    }
  });
});
