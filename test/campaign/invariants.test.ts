import { describe, expect, it } from 'vitest';
import { checkRun, INVARIANTS, type InvariantName, type RunRecord } from '../../src/campaign/invariants.js';
import { runCampaign, type SimulateFn } from '../../src/campaign/run-campaign.js';
import type { SimulationResult } from '../../src/sim/result-types.js';
import { simulate } from '../../src/sim/simulate.js';
import { findRecord, space } from './helpers.js';

// Each invariant is broken on purpose, once by editing a real run's record and,
// where the simulator can be bent, once through a broken simulator in a whole
// campaign: the check must name it.

const byName = (name: InvariantName) => INVARIANTS.find((i) => i.name === name)!;

function caught(rec: RunRecord, name: InvariantName): string {
  const v = byName(name).check(rec);
  expect(v, `${name} should catch this`).toBeDefined();
  expect(v!.invariant).toBe(name);
  return v!.message;
}

/** A copy of the record whose result can be edited without touching the original. */
function edit(rec: RunRecord, change: (r: SimulationResult, rec: RunRecord) => void): RunRecord {
  const copy: RunRecord = { ...rec, result: structuredClone(rec.result!) };
  if (rec.hardware)
    copy.hardware = { ...rec.hardware, staged: [...rec.hardware.staged], misuse: [...rec.hardware.misuse] };
  change(copy.result!, copy);
  return copy;
}

const stagedOk = findRecord(
  space({ faults: ['none'], policies: ['auto'], profiles: [{ kind: 'family', family: 'ideal' }] }),
  (r) => !!r.result?.staging.ok,
);

describe('invariants hold on real runs', () => {
  it('a clean staged run passes every check', () => {
    expect(checkRun(stagedOk)).toEqual([]);
  });
});

describe('terminates', () => {
  it('catches a run that hits the virtual-time limit', () => {
    const tight: SimulateFn = (opts) => simulate({ ...opts, virtualTimeLimitNs: 121e9 });
    const rec = findRecord(
      space({ faults: ['never-ready'], policies: ['auto'], placements: ['at'] }),
      (r) => r.error !== undefined,
      tight,
    );
    expect(caught(rec, 'terminates')).toMatch(/SimulationLimitError: virtual time passed/);
  });

  it('catches a simulator that throws', () => {
    const broken: SimulateFn = () => {
      throw new TypeError('boom');
    };
    const rec = findRecord(space(), () => true, broken);
    expect(caught(rec, 'terminates')).toBe('simulate() threw TypeError: boom');
  });

  it('catches more chunks or polls than the budget allows', () => {
    expect(
      caught(
        edit(stagedOk, (r) => (r.staging.packages[0]!.chunks = 1e6)),
        'terminates',
      ),
    ).toMatch(/chunks sent, the budget allows at most/);
    expect(
      caught(
        edit(stagedOk, (r) => (r.staging.packages[0]!.polls = 1e9)),
        'terminates',
      ),
    ).toMatch(/STATUS polls/);
  });
});

describe('staged-copy-identical', () => {
  it('catches a staged copy one bit off', () => {
    const rec = edit(stagedOk, (_r, c) => {
      const bad = c.hardware!.staged[0]!.slice();
      bad[1000]! ^= 0x10;
      c.hardware!.staged[0] = bad;
    });
    expect(caught(rec, 'staged-copy-identical')).toBe(
      `package 0: staged copy differs from the image at byte 1000 (${stagedOk.hardware!.image.length} vs ${stagedOk.hardware!.image.length} bytes)`,
    );
  });

  it('catches a successful staging that left no copy', () => {
    const rec = edit(stagedOk, (_r, c) => {
      c.hardware!.staged[0] = undefined;
    });
    expect(caught(rec, 'staged-copy-identical')).toMatch(
      /package 0 staged successfully but its mailbox holds no staged copy|applied as staged/,
    );
  });

  it('through a simulator whose device corrupts its buffer after the transfer', () => {
    const corrupting: SimulateFn = (opts) =>
      simulate({
        ...opts,
        onFinish: (ctx) => {
          const staged = ctx.machine.devices[0]?.stagedImage();
          if (staged) staged[staged.length - 1]! ^= 1;
          opts.onFinish?.(ctx);
        },
      });
    const report = runCampaign({
      space: space({ faults: ['none'], policies: ['auto'] }),
      runs: 30,
      seed: 2,
      simulate: corrupting,
    });
    expect(report.invariants.find((t) => t.name === 'staged-copy-identical')!.violations).toBeGreaterThan(0);
    expect(report.failingCount).toBeGreaterThan(0);
  });
});

describe('revisions-consistent', () => {
  it("catches a core left behind in an 'updated' load", () => {
    const rec = edit(stagedOk, (r) => {
      const last = r.cpus[r.cpus.length - 1]!;
      for (const c of r.cpus)
        if (c.package === last.package && c.core === last.core) c.revisionAfter = c.revisionBefore;
    });
    expect(caught(rec, 'revisions-consistent')).toMatch(
      /CPU \d+ reports '(updated|ok)' but runs 0x[0-9a-f]+/,
    );
    const silent = edit(rec, (r) => {
      for (const c of r.cpus) if (c.revisionAfter === c.revisionBefore) c.result = 'error';
    });
    expect(caught(silent, 'revisions-consistent')).toMatch(
      /the result counts|outcome 'updated' but \d+ CPUs still run/,
    );
  });

  it('catches two revisions within one core', () => {
    const smt = findRecord(
      space({ faults: ['none'], random: { maxPackages: 1, maxCores: 2, threads: [2] } }),
      (r) => r.result?.outcome === 'updated',
    );
    const rec = edit(smt, (r) => {
      const sibling = r.cpus.find((c) => !c.primary)!;
      sibling.revisionAfter = sibling.revisionBefore;
    });
    expect(caught(rec, 'revisions-consistent')).toMatch(/mixes revisions|reports 'ok'|reports 'updated'/);
  });

  it('catches a partial load whose failed CPU has no reason', () => {
    const partial = findRecord(
      space({ faults: ['none'], cpuFaultRate: 1 }),
      (r) => r.result?.outcome === 'partial' && r.run.cpuFault?.kind === 'apply-rejected',
    );
    expect(byName('revisions-consistent').check(partial)).toBeUndefined();
    const rec = edit(partial, (r) => {
      r.applies = r.applies.filter((a) => a.outcome !== 'rejected');
    });
    expect(caught(rec, 'revisions-consistent')).toMatch(/failed \('error'\) but no apply record says why/);
  });

  it('through a simulator that reports success for a partial load', () => {
    const lying: SimulateFn = (opts) => {
      const r = simulate(opts);
      if (r.outcome === 'partial') {
        r.outcome = 'updated';
        r.returnCode = 0;
      }
      return r;
    };
    const report = runCampaign({
      space: space({ faults: ['none'], cpuFaultRate: 1 }),
      runs: 60,
      seed: 3,
      simulate: lying,
    });
    expect(report.invariants.find((t) => t.name === 'revisions-consistent')!.violations).toBeGreaterThan(0);
  });
});

const smt = { maxPackages: 1, maxCores: 2, threads: [2] as const };
const gaveUpOnSiblings = (r: RunRecord) =>
  !!r.result &&
  Number.isFinite(r.result.cpus[0]!.arrivedNs) &&
  !Number.isFinite(r.result.cpus[0]!.releasedNs);

describe('rendezvous-timing', () => {
  const timedOut = findRecord(
    space({ faults: ['none'], cpuFaultRate: 1 }),
    (r) => !!r.result?.cpus.some((c) => c.result === 'timeout'),
  );
  const released = findRecord(
    space({ faults: ['none'], cpuFaultRate: 1 }),
    (r) =>
      r.run.cpuFault?.delayNs === 999_999_000 &&
      r.run.cpuFault.kind === 'late-arrival' &&
      r.result?.outcome === 'updated',
  );
  const panicked = findRecord(
    space({ faults: ['none'], slowApplyRate: 1, random: smt }),
    (r) => r.result?.outcome === 'panic',
  );
  const kickFailed = findRecord(
    space({ faults: ['none'], cpuFaultRate: 1, offlineRate: 1, random: smt }),
    gaveUpOnSiblings,
  );

  it('accepts real timeouts, a release 999,999 us late, a panic and a failed offline kick', () => {
    for (const rec of [timedOut, released, panicked, kickFailed])
      expect(byName('rendezvous-timing').check(rec)).toBeUndefined();
  });

  it('catches a rendezvous timeout 1 us late', () => {
    const rec = edit(timedOut, (r) => {
      const c = r.cpus.find((c) => c.result === 'timeout')!;
      c.releasedNs += 1000;
    });
    expect(caught(rec, 'rendezvous-timing')).toMatch(
      /CPU \d+ left the timed-out rendezvous 1000001000 ns after it arrived \(result 'timeout'\), not exactly 1000000000 ns/,
    );
  });

  it('catches a timeout where every CPU arrived within 999,999 us', () => {
    const rec = edit(released, (r) => {
      r.cpus.find((c) => c.online)!.result = 'timeout';
    });
    expect(caught(rec, 'rendezvous-timing')).toMatch(
      /timed out in the rendezvous although the last CPU arrived 999999 us after the first/,
    );
  });

  it('catches a panic 1 us early and a sibling that did not panic', () => {
    const early = edit(panicked, (r) => {
      for (const l of r.log) if (l.text.startsWith('Kernel panic')) l.timeNs -= 1000;
    });
    expect(caught(early, 'rendezvous-timing')).toMatch(
      /the panic came 999999000 ns after CPU \d+ began waiting for its primary, not exactly 1000000000 ns/,
    );
    const none = edit(panicked, (r) => {
      r.outcome = 'updated';
      r.log = r.log.filter((l) => !l.text.startsWith('Kernel panic'));
    });
    expect(caught(none, 'rendezvous-timing')).toMatch(
      /wait_for_ctrl\(\) gives up after 1000000 us and panics, yet the outcome is 'updated'/,
    );
  });

  it('catches CPU 0 giving up on the offline siblings after 0.5 s + 1 us', () => {
    const rec = edit(kickFailed, (r) => {
      r.cpus[0]!.doneNs += 1000;
    });
    expect(caught(rec, 'rendezvous-timing')).toMatch(
      /CPU 0 gave up on the offline siblings 500001000 ns after it began waiting, not 500000000 ns/,
    );
  });
});

describe('staging-errno-matches-fault', () => {
  const neverReady = findRecord(
    space({ faults: ['never-ready'], policies: ['auto'], placements: ['at'] }),
    (r) => r.result?.staging.errno === -110,
  );

  it('accepts the real -ETIMEDOUT failure', () => {
    expect(byName('staging-errno-matches-fault').check(neverReady)).toBeUndefined();
  });

  it('catches the wrong errno (with its log line rewritten to match)', () => {
    const rec = edit(neverReady, (r) => {
      const pass = r.staging.packages[r.staging.packages.length - 1]!;
      pass.errno = -5;
      r.staging.errno = -5;
      for (const l of r.log) l.text = l.text.replace('(-110)', '(-5)');
    });
    expect(caught(rec, 'staging-errno-matches-fault')).toMatch(
      /staging failed with -5, fault never-ready gives -110/,
    );
  });

  it('catches a missing error line', () => {
    const rec = edit(neverReady, (r) => {
      r.log = r.log.filter((l) => !l.text.includes('staging failed'));
    });
    expect(caught(rec, 'staging-errno-matches-fault')).toMatch(
      /missing log line 'microcode: Error: staging failed \(-110\) for CPU\d+ at package \d+\.'/,
    );
  });

  it("catches bad-header's invalid-response line missing", () => {
    const badHeader = findRecord(
      space({ faults: ['bad-header'], policies: ['auto'], placements: ['at'] }),
      (r) => r.result?.staging.errno === -53,
    );
    expect(byName('staging-errno-matches-fault').check(badHeader)).toBeUndefined();
    const rec = edit(badHeader, (r) => {
      r.log = r.log.filter((l) => !l.text.includes('invalid response header'));
    });
    expect(caught(rec, 'staging-errno-matches-fault')).toMatch(/is not preceded by the line/);
  });

  it('a slow device that times out without any fault is no violation', () => {
    const slow = space({
      faults: ['none'],
      profiles: [{ kind: 'exact', profile: { kind: 'slow', chunkNs: 30e9 } }],
    });
    const rec = findRecord(slow, (r) => r.result?.staging.errno === -110);
    expect(checkRun(rec)).toEqual([]);
    const report = runCampaign({ space: slow, runs: 20, seed: 3 });
    expect(report.failing.map((f) => f.violations)).toEqual([]);
    expect(report.total.fellBack + report.total.aborted).toBeGreaterThan(0);
  });

  it('catches a staging that succeeded although its fault fired', () => {
    const rec = edit(neverReady, (r) => {
      const pass = r.staging.packages[r.staging.packages.length - 1]!;
      pass.errno = 0;
    });
    expect(caught(rec, 'staging-errno-matches-fault')).toMatch(
      /fired at transaction \d+ of package \d+, yet its staging succeeded/,
    );
  });
});

describe('staging-limits', () => {
  const timedOutAtFirst = findRecord(
    space({ faults: ['never-ready'], policies: ['auto'], placements: ['at'] }),
    (r) =>
      r.result?.staging.packages.at(-1)?.errno === -110 && r.result.staging.packages.at(-1)!.chunks === 1,
  );
  const timedOutLater = findRecord(
    space({
      faults: ['never-ready'],
      policies: ['auto'],
      placements: ['at'],
      profiles: [{ kind: 'family', family: 'ideal' }],
    }),
    (r) => r.result?.staging.packages.at(-1)?.errno === -110 && r.result.staging.packages.at(-1)!.chunks > 3,
  );
  const overBudget = findRecord(
    space({ faults: ['rerequest-forever'], policies: ['auto'], placements: ['at'] }),
    (r) => r.result?.staging.errno === -90,
  );

  it('accepts real timeouts and a real -EMSGSIZE', () => {
    for (const rec of [timedOutAtFirst, timedOutLater, overBudget, stagedOk])
      expect(byName('staging-limits').check(rec)).toBeUndefined();
  });

  it('catches a timeout after 10,001 polls, at the first transaction or a later one', () => {
    const first = edit(timedOutAtFirst, (r) => {
      r.staging.packages.at(-1)!.polls++;
    });
    expect(caught(first, 'staging-limits')).toMatch(
      /gave up on transaction \d+ after 10001 STATUS polls \(10001 in the pass, one for each of the 0 before it\); the kernel polls exactly 10000 times/,
    );
    const later = edit(timedOutLater, (r) => {
      r.staging.packages.at(-1)!.polls--;
    });
    expect(caught(later, 'staging-limits')).toMatch(/after 9999 STATUS polls/);
  });

  it('catches -EMSGSIZE one chunk early, and a request past the budget', () => {
    const early = edit(overBudget, (_r, c) => {
      const pkg = c.result!.staging.packages.at(-1)!.pkg;
      // The device's record of the pass without its last transaction: the host stopped a request too soon.
      const all = c.hardware!.transactions[pkg]!;
      const last = all.filter((t) => t.goNs <= c.result!.staging.packages.at(-1)!.endNs).at(-1)!;
      c.hardware = {
        ...c.hardware!,
        transactions: c.hardware!.transactions.map((t, p) => (p === pkg ? all.filter((x) => x !== last) : t)),
      };
      c.result!.staging.packages.at(-1)!.bytesSent -= Math.min(4096, c.run.imageBytes - last.offset);
    });
    expect(caught(early, 'staging-limits')).toMatch(
      /the host stopped with -90; \d+ \+ \d+ bytes do not pass the \d+-byte budget/,
    );
    const late = edit(overBudget, (r) => {
      r.staging.packages.at(-1)!.errno = -5;
    });
    expect(caught(late, 'staging-limits')).toMatch(
      /the host stopped with -5; \d+ \+ \d+ bytes pass the \d+-byte budget/,
    );
  });

  it('catches a request of the wrong size and a wrong bytes-sent count', () => {
    const wrongSize = edit(stagedOk, (_r, c) => {
      const txs = c.hardware!.transactions[0]!.map((t) => ({ ...t }));
      txs[0]!.bytes = 2048;
      c.hardware = { ...c.hardware!, transactions: [txs, ...c.hardware!.transactions.slice(1)] };
    });
    expect(caught(wrongSize, 'staging-limits')).toMatch(
      /transaction 0 carried 2048 bytes at offset 0; the kernel sends min\(4096, \d+ - 0\) = 4096/,
    );
    const miscounted = edit(stagedOk, (r) => {
      r.staging.packages[0]!.bytesSent += 4;
    });
    expect(caught(miscounted, 'staging-limits')).toMatch(
      /the host counts \d+ bytes sent, its requests carried \d+/,
    );
  });
});

describe('policy-obeyed', () => {
  it('catches staging=require falling back', () => {
    const aborted = findRecord(
      space({ faults: ['error-status'], policies: ['require'], placements: ['at'] }),
      (r) => r.result?.outcome === 'aborted' && r.result.staging.attempted,
    );
    expect(byName('policy-obeyed').check(aborted)).toBeUndefined();
    const rec = edit(aborted, (r) => {
      r.outcome = 'updated';
    });
    expect(caught(rec, 'policy-obeyed')).toMatch(/staging=require fell back/);
  });

  it('catches staging=auto not falling back', () => {
    const fellBack = findRecord(
      space({ faults: ['response-error'], policies: ['auto'], placements: ['at'] }),
      (r) => !!r.result && r.result.staging.attempted && !r.result.staging.ok,
    );
    expect(byName('policy-obeyed').check(fellBack)).toBeUndefined();
    const rec = edit(fellBack, (r) => {
      r.outcome = 'aborted';
    });
    expect(caught(rec, 'policy-obeyed')).toMatch(/staging=auto aborted the load/);
  });

  it('accepts auto falling back into a stop_machine that never completes (the only CPU never reaches it)', () => {
    // Found by the 100,000-run campaign (run 48599 of seed 1): no CPU was ever stopped, yet the load went on.
    const hung = findRecord(
      space({
        random: { maxPackages: 1, maxCores: 1, threads: [1] },
        faults: ['response-error'],
        placements: ['at'],
        policies: ['auto'],
        cpuFaultRate: 1,
      }),
      (r) =>
        r.run.cpuFault?.kind === 'never-reaches-stop-machine' &&
        r.result?.outcome === 'hang' &&
        r.result.staging.attempted &&
        !r.result.staging.ok,
    );
    expect(hung.result!.cpus.some((c) => Number.isFinite(c.stoppedNs))).toBe(false);
    expect(byName('policy-obeyed').check(hung)).toBeUndefined();
    const rec = edit(hung, (r) => {
      r.outcome = 'failed';
    });
    expect(caught(rec, 'policy-obeyed')).toMatch(/staging=auto did not fall back to the unstaged load/);
  });

  it('catches staging=off touching a mailbox', () => {
    const off = findRecord(
      space({ faults: ['none'], policies: ['off'] }),
      (r) => r.result?.outcome === 'updated' && r.result.devices.some((d) => d.present),
    );
    expect(byName('policy-obeyed').check(off)).toBeUndefined();
    const rec = edit(off, (r) => {
      r.devices.find((d) => d.present)!.aborts = 1;
    });
    expect(caught(rec, 'policy-obeyed')).toMatch(/staging=off but package \d+'s mailbox saw 1 ABORTs/);
  });

  it('through a simulator that ignores staging=require', () => {
    const ignoring: SimulateFn = (opts) =>
      simulate({
        ...opts,
        policy: {
          ...opts.policy,
          staging: opts.policy?.staging === 'require' ? 'auto' : opts.policy?.staging,
        },
      });
    const report = runCampaign({
      space: space({ policies: ['require'] }),
      runs: 20,
      seed: 4,
      simulate: ignoring,
    });
    expect(report.invariants.find((t) => t.name === 'policy-obeyed')!.violations).toBe(20);
  });
});

describe('mailbox-protocol-conformant', () => {
  it('catches a recorded misuse', () => {
    const rec = edit(stagedOk, (_r, c) => {
      c.hardware!.misuse[0] = [
        {
          timeNs: 1,
          kind: 'double-read',
          detail: 'package 0: RDDATA dword 1 read again without acknowledgement',
        },
      ];
    });
    expect(caught(rec, 'mailbox-protocol-conformant')).toBe(
      'the host misused the mailbox: double-read: package 0: RDDATA dword 1 read again without acknowledgement',
    );
  });
});

describe('deterministic', () => {
  it('catches a simulator whose result depends on more than the seed', () => {
    let calls = 0;
    const leaky: SimulateFn = (opts) => {
      const r = simulate(opts);
      r.log.push({ timeNs: 0, level: 'info', text: `call ${calls++}` });
      return r;
    };
    const report = runCampaign({ space: space(), runs: 10, seed: 5, determinismEvery: 1, simulate: leaky });
    const tally = report.invariants.find((t) => t.name === 'deterministic')!;
    expect(tally.checks).toBe(10);
    expect(tally.violations).toBe(10);
    expect(report.failing[0]!.violations.find((v) => v.invariant === 'deterministic')!.message).toMatch(
      /a second run of seed \d+ differs at character/,
    );
  });

  it('the real simulator gives byte-identical results for the same seed', () => {
    const report = runCampaign({
      space: space({ cpuFaultRate: 0.2, offlineRate: 0.1 }),
      runs: 100,
      seed: 6,
      determinismEvery: 1,
    });
    expect(report.determinismChecks).toBe(100);
    expect(report.invariants.find((t) => t.name === 'deterministic')!.violations).toBe(0);
  });
});
