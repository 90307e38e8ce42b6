/** Benchmark 5: a fault campaign (src/campaign) over small machines. */
import { type CampaignReport, runCampaign } from '../campaign/run-campaign.js';
import { type CampaignSpace, DEFAULT_SPACE } from '../campaign/space.js';
import type { Clock } from './harness.js';

/**
 * The campaign command's default space (every mailbox fault kind and none, all
 * profiles and policies, CPU faults), on random machines of at most
 * 2 packages x 2 cores x 2 threads, with a 16 KB synthetic image.
 */
export const BENCH_CAMPAIGN_SPACE: CampaignSpace = {
  ...DEFAULT_SPACE,
  random: { maxPackages: 2, maxCores: 2, threads: [2] },
  imageBytes: { min: 16 * 1024, max: 16 * 1024 },
};

/** `runs` seeded runs, each checked against every invariant; every 50th is run twice (determinism). */
export function campaign(runs: number, seed: number, now: Clock): CampaignReport {
  return runCampaign({ space: BENCH_CAMPAIGN_SPACE, runs, seed, clock: now });
}
