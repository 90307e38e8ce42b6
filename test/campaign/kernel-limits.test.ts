import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KERNEL_FACTS } from '../../src/campaign/kernel-facts.js';
import type * as RunCampaign from '../../src/campaign/run-campaign.js';
import { type CampaignSpace, DEFAULT_SPACE } from '../../src/campaign/space.js';
import type * as Limits from '../../src/kernel/limits.js';
import { KERNEL_LIMITS } from '../../src/kernel/limits.js';

// The kernel's timing rules are invariants, checked against the campaign's own
// copy of them (src/campaign/kernel-facts.ts). The test hook: the model is
// imported afresh with src/kernel/limits.ts replaced by a copy whose
// KERNEL_LIMITS has ONE value changed (vi.doMock; the model's files are not
// touched), and a campaign over it must report the invariant that owns the
// rule. The unchanged model passes the same campaign.

const LIMITS = '../../src/kernel/limits.js';
type KernelLimits = typeof Limits.KERNEL_LIMITS;

/** A space aimed at the limits: small SMT machines, CPU trouble in every run, the faults that reach the staging bounds. */
const SPACE: CampaignSpace = {
  ...DEFAULT_SPACE,
  random: { maxPackages: 2, maxCores: 2, threads: [2] },
  faults: ['none', 'never-ready', 'rerequest-forever', 'mailbox-msr-fault'],
  policies: ['auto'],
  imageBytes: { min: 8 * 1024, max: 16 * 1024 },
  cpuFaultRate: 1,
  offlineRate: 0.5,
  slowApplyRate: 0.3,
};
const RUNS = 300;

/** runCampaign from a fresh copy of the model whose KERNEL_LIMITS has `change` laid over it. */
async function modelWith(change: Partial<KernelLimits>): Promise<typeof RunCampaign> {
  vi.resetModules();
  vi.doMock(LIMITS, async (importOriginal) => {
    const real = await importOriginal<typeof Limits>();
    return { ...real, KERNEL_LIMITS: Object.freeze({ ...real.KERNEL_LIMITS, ...change }) };
  });
  return import('../../src/campaign/run-campaign.js');
}

afterEach(() => {
  vi.doUnmock(LIMITS);
  vi.resetModules();
});

async function campaign(change: Partial<KernelLimits>) {
  const { runCampaign } = await modelWith(change);
  return runCampaign({ space: SPACE, runs: RUNS, seed: 11, determinismEvery: 0 });
}

describe('the campaign holds its own copy of the kernel limits', () => {
  it('agrees with the model on every value', () => {
    for (const [key, value] of Object.entries(KERNEL_LIMITS)) {
      expect(KERNEL_FACTS[key as keyof typeof KERNEL_FACTS], key).toBe(value);
    }
  });

  it('and never reads the model’s', () => {
    for (const name of readdirSync('src/campaign')) {
      const text = readFileSync(join('src/campaign', name), 'utf8');
      expect(text, name).not.toMatch(/import\s*(type\s*)?\{[^}]*\bKERNEL_LIMITS\b[^}]*\}\s*from/);
    }
  });
});

describe('a model with one kernel limit changed fails the campaign', () => {
  it('the unchanged model (through the same hook) passes it', async () => {
    const report = await campaign({});
    expect(report.failing.slice(0, 3).map((f) => f.violations)).toEqual([]);
    // The space reaches every rule it is here for.
    expect(report.outcomes.panic).toBeGreaterThan(0);
    expect(report.total.fellBack).toBeGreaterThan(0);
  });

  it.each<[keyof KernelLimits, number, string]>([
    ['rendezvousWaitUs', 999_999, 'rendezvous-timing'],
    ['rendezvousWaitUs', 1_000_001, 'rendezvous-timing'],
    ['rendezvousWaitUs', 2_000_000, 'rendezvous-timing'],
    ['offlineKickUs', 499_999, 'rendezvous-timing'],
    ['offlineKickUs', 500_001, 'rendezvous-timing'],
    ['offlineKickUs', 1_000_000, 'rendezvous-timing'],
    ['siblingWaitUs', 999_999, 'rendezvous-timing'],
    ['siblingWaitUs', 1_000_001, 'rendezvous-timing'],
    ['siblingWaitUs', 2_000_000, 'rendezvous-timing'],
    ['stagingPollIterations', 9_999, 'staging-limits'],
    ['stagingPollIterations', 10_001, 'staging-limits'],
    ['stagingBudgetFactor', 1, 'staging-limits'],
    ['stagingBudgetFactor', 3, 'staging-limits'],
    ['stagingChunkBytes', 2048, 'staging-limits'],
    ['stagingChunkBytes', 8192, 'staging-limits'],
  ])('%s = %d is caught by %s', async (key, value, invariant) => {
    const report = await campaign({ [key]: value });
    const tally = report.invariants.find((t) => t.name === invariant)!;
    expect(tally.violations, `${invariant} over ${RUNS} runs`).toBeGreaterThan(0);
    const first = report.failing[0]!.violations.find((v) => v.invariant === invariant);
    console.log(`${key} = ${value}: ${report.failingCount} of ${RUNS} runs; ${invariant}: ${first?.message}`);
  });
});
