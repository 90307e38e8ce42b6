import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultJson } from '../../src/campaign/invariants.js';
import { executeRun } from '../../src/campaign/run-campaign.js';
import {
  type CampaignSpace,
  DEFAULT_SPACE,
  type DrawnRun,
  drawRun,
  machineInput,
  replayArgs,
  replayMachineFile,
  runSeed,
  simulateOptions,
} from '../../src/campaign/space.js';
import { SIMULATE } from '../../src/cli/commands.js';
import { resolveSimOptions, type SimValues } from '../../src/cli/sim-options.js';
import { parseCommand } from '../../src/cli/spec.js';
import { parseMachineSpec } from '../../src/platform/machine-spec.js';
import { fromJson } from '../../src/sim/json.js';
import { resolveMachine } from '../../src/sim/machine-input.js';
import type { SimulationResult } from '../../src/sim/result-types.js';
import { requireBuiltCli, runBuiltCli } from '../support/built-cli.js';

// A campaign run must be replayable with `ucode-staging simulate`: drawRun gives
// the same run for the same seed, and the simulate CLI, given replayArgs (and the
// machine file), builds exactly the options the campaign simulated.

const dir = mkdtempSync(join(tmpdir(), 'ucode-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WIDE: CampaignSpace = {
  ...DEFAULT_SPACE,
  machines: [{ kind: 'random' }, { kind: 'preset', name: 'up' }, { kind: 'preset', name: 'spr-2s' }],
  budgets: ['2x', 'per-chunk'],
  dedupes: ['previous-package', 'distinct'],
  polls: ['msleep', 'fine'],
  kernels: ['6.12+', 'pre-6.12'],
  hz: [100, 250, 300, 1000],
  cpuFaultRate: 0.3,
  offlineRate: 0.2,
  slowApplyRate: 0.1,
};

/** The simulate CLI's own option resolution, in process, for the run's arguments. */
async function cliOptions(run: DrawnRun, machineFile: string | undefined) {
  const args = replayArgs(run, machineFile);
  expect(args[0]).toBe('simulate');
  const { values } = parseCommand(SIMULATE, args.slice(1));
  const resolved = await resolveSimOptions(values as SimValues, {
    UCODE_STAGING_FIRMWARE_DIR: join(dir, 'no-firmware'),
  });
  return resolved.options;
}

describe('drawRun', () => {
  it('is a function of the space and the seed', () => {
    for (let i = 0; i < 200; i++) {
      const seed = runSeed(42, i);
      expect(drawRun(WIDE, seed)).toEqual(drawRun(WIDE, seed));
    }
    const seeds = new Set(Array.from({ length: 10_000 }, (_, i) => runSeed(42, i)));
    expect(seeds.size).toBeGreaterThan(9_990);
    expect(runSeed(42, 0)).not.toBe(runSeed(43, 0));
  });

  it('draws only valid machines, within the space', () => {
    for (let i = 0; i < 2000; i++) {
      const run = drawRun(WIDE, runSeed(7, i));
      const spec = parseMachineSpec(machineInput(run));
      if (run.machine.kind === 'random') {
        expect(spec.packages).toBeLessThanOrEqual(2);
        expect(spec.coresPerPackage).toBeLessThanOrEqual(8);
      }
      expect(run.imageBytes % 4).toBe(0);
      expect(run.imageBytes).toBeGreaterThanOrEqual(8192);
      expect(run.imageBytes).toBeLessThanOrEqual(65536);
    }
  });
});

describe('replayArgs: the simulate CLI rebuilds the exact options', () => {
  it('for 1000 runs of a wide space (machine, policy, image, seed)', async () => {
    for (let i = 0; i < 1000; i++) {
      const run = drawRun(WIDE, runSeed(8, i));
      const file = replayMachineFile(run);
      const path = file ? join(dir, `m-${i}.json`) : undefined;
      if (path) writeFileSync(path, JSON.stringify(file));
      const cli = await cliOptions(run, path);
      const ours = simulateOptions(run);
      expect(resolveMachine(cli.machine, cli)).toEqual(resolveMachine(ours.machine, ours));
      expect(cli.seed).toBe(ours.seed);
      expect(cli.syntheticImageBytes).toBe(ours.syntheticImageBytes);
      expect(cli.firmware).toBeUndefined();
      expect({ budget: '2x', dedupe: 'previous-package', poll: 'msleep', ...cli.policy }).toEqual(
        ours.policy,
      );
    }
  });

  it('refuses to give a command without the machine file a run needs', () => {
    const run = drawRun(DEFAULT_SPACE, runSeed(1, 0));
    expect(run.machine.kind).toBe('random');
    expect(() => replayArgs(run)).toThrow(/needs its machine file/);
  });
});

describe('replay end to end through the built binary', () => {
  beforeAll(requireBuiltCli);

  /** A run of the space whose result is interesting: a staging failure that fell back, or an abort. */
  function pick(
    space: CampaignSpace,
    want: (r: NonNullable<ReturnType<typeof executeRun>['result']>) => boolean,
  ) {
    for (let i = 0; i < 500; i++) {
      const rec = executeRun(i, drawRun(space, runSeed(3, i)));
      if (rec.result && want(rec.result)) return rec;
    }
    throw new Error('no such run');
  }

  it.each([
    [
      'a random machine (machine file) whose staging failed and fell back',
      { ...DEFAULT_SPACE, policies: ['auto'] as const },
      'fell back',
    ],
    [
      'a preset whose staging=require aborted',
      {
        ...DEFAULT_SPACE,
        machines: [{ kind: 'preset' as const, name: 'up' }],
        policies: ['require'] as const,
      },
      'aborted',
    ],
  ])('%s', (_label, space, kind) => {
    const rec = pick(space, (r) =>
      kind === 'aborted'
        ? r.outcome === 'aborted' && r.staging.attempted
        : r.staging.attempted && !r.staging.ok && r.outcome !== 'aborted',
    );
    const file = replayMachineFile(rec.run);
    const path = join(dir, `e2e-${rec.run.seed}.json`);
    if (file) writeFileSync(path, JSON.stringify(file, null, 2));
    const args = replayArgs(rec.run, file ? path : undefined);
    const out = runBuiltCli([...args, '--json', '-']);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(rec.result!.outcome === 'updated' ? 0 : 1);
    // Byte-identical apart from the trace, which the campaign leaves off.
    expect(resultJson(fromJson(out.stdout) as SimulationResult)).toBe(resultJson(rec.result!));
  });
});
