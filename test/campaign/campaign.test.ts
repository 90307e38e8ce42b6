import { describe, expect, it } from 'vitest';
import { formatCampaignTable, percentiles, runCampaign } from '../../src/campaign/run-campaign.js';
import { ALL_FAULT_CHOICES, DEFAULT_SPACE, STAGING_POLICIES } from '../../src/campaign/space.js';

// The campaign that runs with every `npm test`: the default space (small random
// machines, 8-64 KB synthetic images, every fault kind, every policy, HZ 250 and
// 1000). CAMPAIGN_RUNS overrides the size; `npm run campaign` runs 100,000.
const RUNS = Number(process.env.CAMPAIGN_RUNS ?? 10_000);

describe(`campaign: ${RUNS} seeded runs of the default space`, () => {
  it(
    'violates no invariant',
    () => {
      const report = runCampaign({
        space: DEFAULT_SPACE,
        runs: RUNS,
        seed: 1,
        clock: () => performance.now(),
      });
      const seconds = report.wallMs / 1000;
      console.log(
        `campaign: ${RUNS} runs in ${seconds.toFixed(1)} s (${Math.round(RUNS / seconds)} runs/s), ` +
          `${report.faultsInjected} faults injected, ${report.faultsFired} fired, ` +
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
      for (const t of report.invariants)
        expect(t.checks).toBe(t.name === 'deterministic' ? report.determinismChecks : RUNS);
      expect(report.total.runs).toBe(RUNS);
      // The space reaches every outcome the invariants distinguish.
      if (RUNS >= 5000) {
        for (const outcome of ['updated', 'partial', 'failed', 'aborted', 'busy', 'panic', 'hang']) {
          expect(report.outcomes[outcome], outcome).toBeGreaterThan(0);
        }
        expect(report.total.stagedOk).toBeGreaterThan(0);
        expect(report.total.fellBack).toBeGreaterThan(0);
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
