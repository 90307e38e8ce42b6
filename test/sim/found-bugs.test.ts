import { describe, expect, it } from 'vitest';
import { checkRun } from '../../src/campaign/invariants.js';
import { executeRun } from '../../src/campaign/run-campaign.js';
import { DEFAULT_SPACE, drawRun, runSeed } from '../../src/campaign/space.js';
import { simulate } from '../../src/sim/simulate.js';

// Simulator bugs the campaign found. Each test fails until the owner fixes the
// simulator; docs/reliability.md describes each one. They are not worked around
// in the campaign.

describe('bug: CPU 0 never reaching the rendezvous while an SMT sibling is offline ends the load at t=Infinity', () => {
  // Found by `npm run campaign` (campaign --runs 100000 --seed 1), run 66431, seed 4236376440:
  // 1 package x 1 core x 2 threads, CPU 1 offline, CPU 0 never arrives. Replay:
  //   ucode-staging simulate --machine M.json --synthetic --image-size 14488 --profile slow:chunkNs=2468000
  //     --fault 0=response-error@1 --offline 1 --cpu-fault 0=never-arrives --hz 1000 --kernel 6.12+
  //     --staging off --budget 2x --dedupe previous-package --poll msleep --seed 4236376440
  // The kick of the offline siblings starts at CPU 0's arrival (Infinity), computes NaN steps, takes that
  // for "the siblings did not respond", and the load returns -EIO at virtual time Infinity, printing
  // "[Infinity.000NaN] microcode: 1 offline siblings did not respond." stop_machine can never complete
  // when CPU 0 never arrives: the outcome must be 'hang', as it is without the offline sibling.
  const machine = {
    name: 'cpu0-stuck-offline-sibling',
    packages: 1,
    coresPerPackage: 1,
    threadsPerCore: 2 as const,
    signature: 0xa06d1,
    platformId: 0,
    initialRevision: 0x100,
    staging: { archCapMcuEnum: false, mcuStaging: false },
    offlineCpus: [1],
    cpuFaults: [{ cpu: 0, kind: 'never-arrives' as const }],
  };

  it('the load hangs (stop_machine never completes), at a finite time, with a finite log', () => {
    const r = simulate({ machine, syntheticImageBytes: 16 * 1024, trace: false });
    expect(Number.isFinite(r.reload.endNs)).toBe(true);
    expect(r.log.every((l) => Number.isFinite(l.timeNs))).toBe(true);
    expect(r.outcome).toBe('hang');
    expect(r.hangReason).toBe('stop_machine never completes: CPU 0 never reached the rendezvous');
    // The kernel prints nothing about it: it is stuck.
    expect(r.log.some((l) => l.text.includes('stop_machine'))).toBe(false);
  });

  it('without the offline sibling the same machine hangs (the reference behaviour)', () => {
    const r = simulate({
      machine: { ...machine, offlineCpus: [] },
      syntheticImageBytes: 16 * 1024,
      trace: false,
    });
    expect(r.outcome).toBe('hang');
    expect(Number.isFinite(r.reload.endNs)).toBe(true);
  });

  it('the campaign run that found it passes every invariant', () => {
    const run = drawRun(DEFAULT_SPACE, runSeed(1, 66_431));
    expect(run.seed).toBe(4_236_376_440);
    expect(checkRun(executeRun(66_431, run))).toEqual([]);
  });
});
