import type { RunRecord } from '../../src/campaign/invariants.js';
import { executeRun, type SimulateFn } from '../../src/campaign/run-campaign.js';
import { type CampaignSpace, DEFAULT_SPACE, drawRun, runSeed } from '../../src/campaign/space.js';

/** A narrow space: random small machines, no CPU trouble, so each test picks the runs it needs. */
export function space(over: Partial<CampaignSpace> = {}): CampaignSpace {
  return { ...DEFAULT_SPACE, cpuFaultRate: 0, offlineRate: 0, slowApplyRate: 0, ...over };
}

/** The first run of the space (campaign seed 1) whose record satisfies `want`. */
export function findRecord(s: CampaignSpace, want: (rec: RunRecord) => boolean, sim?: SimulateFn): RunRecord {
  for (let i = 0; i < 2000; i++) {
    const rec = executeRun(i, drawRun(s, runSeed(1, i)), sim);
    if (want(rec)) return rec;
  }
  throw new Error('no run in the first 2000 satisfies the condition');
}
