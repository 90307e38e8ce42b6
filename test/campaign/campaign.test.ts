import { describe, expect, it } from 'vitest';
import { formatCampaignTable, percentiles, runCampaign } from '../../src/campaign/run-campaign.js';
import {
  ALL_FAULT_CHOICES,
  DEFAULT_SPACE,
  drawRun,
  MAX_MACHINE_CPUS,
  machineInput,
  runSeed,
  STAGING_POLICIES,
} from '../../src/campaign/space.js';
import { parseMachineSpec } from '../../src/platform/machine-spec.js';

// The campaign that runs with every `npm test`: the default space (small random
// machines, 8-64 KB synthetic images, every fault kind, every policy, HZ 250 and
// 1000). CAMPAIGN_RUNS overrides the size; `npm run campaign` runs 100,000.
const RUNS = Number(process.env.CAMPAIGN_RUNS ?? 10_000);

describe(`campaign: ${RUNS} seeded runs of the default space`, () => {
  it(
    'violates no invariant',
    () => {
      // Every run is run twice and compared (determinismEvery 1): about as long again as the runs.
      const report = runCampaign({
        space: DEFAULT_SPACE,
        runs: RUNS,
        seed: 1,
        determinismEvery: 1,
        clock: () => performance.now(),
      });
      const seconds = report.wallMs / 1000;
      console.log(
        `campaign: ${RUNS} runs in ${seconds.toFixed(1)} s (${Math.round(RUNS / seconds)} runs/s), ` +
          `${report.faultsInjected} faults injected, ${report.faultsFired} fired, ${report.determinismChecks} run twice, ` +
          `${report.invariants.reduce((n, t) => n + t.checks, 0)} invariant checks\n${formatCampaignTable(report)}`,
      );
      const failures = report.failing
        .slice(0, 5)
        .map(
          (f) =>
            `run ${f.index} seed ${f.seed} (${f.fault}, ${f.policy}): ${f.violations.map((v) => `${v.invariant}: ${v.message}`).join('; ')}`,
        );
      expect(failures).toEqual([]);
      expect(report.failingCount).toBe(0);
      // Every fault kind met every policy, and each check ran on every run.
      if (RUNS >= 5000) expect(report.rows).toHaveLength(ALL_FAULT_CHOICES.length * STAGING_POLICIES.length);
      for (const t of report.invariants) expect(t.checks).toBe(RUNS);
      expect(report.determinismChecks).toBe(RUNS);
      expect(report.total.runs).toBe(RUNS);
      // The space reaches every outcome the invariants distinguish.
      if (RUNS >= 5000) {
        for (const outcome of [
          'updated',
          'partial',
          'failed',
          'aborted',
          'busy',
          'panic',
          'hang',
          'kernel-does-not-terminate',
        ]) {
          expect(report.outcomes[outcome], outcome).toBeGreaterThan(0);
        }
        expect(report.total.stagedOk).toBeGreaterThan(0);
        expect(report.total.fellBack).toBeGreaterThan(0);
        expect(report.total.doesNotTerminate).toBe(report.outcomes['kernel-does-not-terminate']);
      }
    },
    Math.max(60_000, RUNS * 20),
  );

  it('the same campaign seed gives the same table', () => {
    const a = runCampaign({ space: DEFAULT_SPACE, runs: 300, seed: 9, determinismEvery: 0 });
    const b = runCampaign({ space: DEFAULT_SPACE, runs: 300, seed: 9, determinismEvery: 0 });
    expect(JSON.stringify({ ...a, wallMs: 0 })).toBe(JSON.stringify({ ...b, wallMs: 0 }));
    const c = runCampaign({ space: DEFAULT_SPACE, runs: 300, seed: 10, determinismEvery: 0 });
    expect(JSON.stringify(c.rows)).not.toBe(JSON.stringify(a.rows));
  });

  it('percentiles are nearest-rank', () => {
    expect(percentiles([])).toBeNull();
    expect(percentiles([5])).toEqual({ p50: 5, p90: 5, p99: 5, max: 5 });
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(hundred)).toEqual({ p50: 50, p90: 90, p99: 99, max: 100 });
  });
});

describe('the space', () => {
  it(`draws random machines within the model's ${MAX_MACHINE_CPUS} CPUs, whatever the ranges allow`, () => {
    const big = { ...DEFAULT_SPACE, random: { maxPackages: 64, maxCores: 1024, threads: [4] as const } };
    let largest = 0;
    for (let i = 0; i < 300; i++) {
      const run = drawRun(big, runSeed(1, i));
      expect(run.cpus).toBeLessThanOrEqual(MAX_MACHINE_CPUS);
      expect(() => parseMachineSpec(machineInput(run))).not.toThrow();
      largest = Math.max(largest, run.cpus);
    }
    // Clamped, not shrunk: the largest machines come up to the limit.
    expect(largest).toBeGreaterThan(MAX_MACHINE_CPUS / 2);
  });

  it('a machine at the limit runs to an outcome, not a violation', () => {
    const big = {
      ...DEFAULT_SPACE,
      random: { maxPackages: 64, maxCores: 1024, threads: [4] as const },
      faults: ['none' as const],
      policies: ['off' as const],
    };
    const report = runCampaign({ space: big, runs: 2, seed: 1, determinismEvery: 0 });
    expect(report.failing.map((f) => f.violations)).toEqual([]);
  });

  it('puts the late CPU on the offline sibling three times in four (the 0.5 s kick)', () => {
    const space = { ...DEFAULT_SPACE, cpuFaultRate: 1, offlineRate: 1 };
    let onOffline = 0;
    for (let i = 0; i < 400; i++) {
      const run = drawRun(space, runSeed(1, i));
      if (run.offlineCpu !== undefined && run.cpuFault?.cpu === run.offlineCpu) onOffline++;
    }
    expect(onOffline).toBeGreaterThan(200);
  });
});

describe('the report', () => {
  it('counts a missing mailbox or a faulting MSR 0x7a5 as fired when staging went through it', () => {
    for (const fault of ['mailbox-absent', 'mailbox-msr-fault'] as const) {
      const staged = runCampaign({
        space: { ...DEFAULT_SPACE, faults: [fault], policies: ['auto'] },
        runs: 60,
        seed: 2,
        determinismEvery: 0,
      });
      expect(staged.faultsFired, fault).toBeGreaterThan(staged.faultsInjected / 2);
      expect(staged.faultsFired, fault).toBeLessThanOrEqual(staged.faultsInjected);
      const off = runCampaign({
        space: { ...DEFAULT_SPACE, faults: [fault], policies: ['off'] },
        runs: 20,
        seed: 2,
        determinismEvery: 0,
      });
      expect(off.faultsFired, `${fault} under staging=off`).toBe(0);
    }
  });

  it("has a column for runs whose kernel never ends, which are not 'fell back'", () => {
    const report = runCampaign({
      space: { ...DEFAULT_SPACE, faults: ['respond'], policies: ['auto', 'require'] },
      runs: 300,
      seed: 4,
      determinismEvery: 0,
    });
    const endless = report.outcomes['kernel-does-not-terminate'] ?? 0;
    expect(endless).toBeGreaterThan(0);
    expect(report.total.doesNotTerminate).toBe(endless);
    // staging=require never falls back: its failures abort, or never end.
    for (const row of report.rows.filter((r) => r.policy === 'require')) expect(row.fellBack).toBe(0);
    const table = formatCampaignTable(report);
    expect(table).toMatch(
      /^fault +policy +runs +staged +fell back +aborted +panic +hang +endless +violated +stop p50 +p90 +p99 +max$/m,
    );
    expect(table).toMatch(new RegExp(`^all +all +300 +\\d+ +\\d+ +\\d+ +\\d+ +\\d+ +${endless} +0 `, 'm'));
    for (const line of table.split('\n')) expect(line.length).toBeLessThanOrEqual(136);
  });
});
