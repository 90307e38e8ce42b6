import type { RunRecord } from '../../src/campaign/invariants.js';
import { executeRun, type SimulateFn } from '../../src/campaign/run-campaign.js';
import { type CampaignSpace, DEFAULT_SPACE, drawRun, runSeed } from '../../src/campaign/space.js';
import type { CliIo } from '../../src/cli/io.js';

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

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export function captureIo(env: Record<string, string | undefined> = {}): {
  io: CliIo;
  out: () => { stdout: string; stderr: string };
} {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      isTTY: false,
      env,
    },
    out: () => ({ stdout, stderr }),
  };
}
