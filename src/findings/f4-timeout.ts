import type { SimulateOptions } from '../sim/simulate.js';
import { PROPOSED_POLL } from './f2-msleep.js';
import { type Finding, finding } from './finding.js';
import { code, seconds, table } from './format.js';
import { HZS, type Hz, KERNELS, STAGING_PRESETS } from './machines.js';
import { lockHeldNs, type Runner } from './runner.js';

/** Package 0's mailbox never answers: the first GO never shows READY. */
const DEAD: Pick<SimulateOptions, 'faults'> = {
  faults: [{ value: { kind: 'never-ready', atTransaction: 0 } }],
};

/** Finding 4: the 10,000-poll timeout in wall time. */
export function timeoutFinding(runner: Runner): Finding {
  const wait = (machine: string, hz: Hz, kernelGeneration: '6.12+' | 'pre-6.12', fix = false) =>
    runner.run({
      machine,
      cost: { hz, kernelGeneration },
      ...DEAD,
      ...(fix ? { policy: PROPOSED_POLL } : {}),
    });
  const presetRows = STAGING_PRESETS.map((machine) => [
    machine,
    ...HZS.flatMap((hz) => KERNELS.map((k) => seconds(wait(machine, hz, k).r.staging.durationNs))),
    ...HZS.map((hz) => seconds(lockHeldNs(wait(machine, hz, '6.12+').r))),
  ]);
  const fixRows = STAGING_PRESETS.map((machine) => [
    machine,
    ...HZS.flatMap((hz) => KERNELS.map((k) => seconds(wait(machine, hz, k, true).r.staging.durationNs))),
    ...HZS.map((hz) => seconds(lockHeldNs(wait(machine, hz, '6.12+', true).r))),
  ]);
  const allHz = [100, 250, 300, 1000] as const;
  const hzRows = allHz.map((hz) => [
    String(hz),
    ...KERNELS.map((k) => seconds(wait('gnr-2s', hz, k).r.staging.durationNs)),
    seconds(wait('gnr-2s', hz, '6.12+', true).r.staging.durationNs),
  ]);
  const worst = wait('gnr-2s', 100, 'pre-6.12').r.staging.durationNs;
  const w250 = wait('gnr-2s', 250, '6.12+');
  const w250old = wait('gnr-2s', 250, 'pre-6.12');
  const w1000 = wait('gnr-2s', 1000, '6.12+');
  const fix = wait('gnr-2s', 250, 'pre-6.12', true);
  const head = [
    'preset',
    ['HZ 250, 6.12+', 'right'],
    ['HZ 250, before 6.12', 'right'],
    ['HZ 1000, 6.12+', 'right'],
    ['HZ 1000, before 6.12', 'right'],
    ['hotplug lock held, HZ 250', 'right'],
    ['HZ 1000', 'right'],
  ] as const;
  const sw = w250.r.stopWindow!.durationNs;
  const staged = runner.run({ machine: 'gnr-2s', cost: { hz: 250 } }).r;
  return finding({
    n: 4,
    title: "A dead mailbox costs 10,000 of the kernel's sleeps before the fallback",
    headline: `a mailbox that never answers holds the reload for ${seconds(w1000.r.staging.durationNs)} at HZ 1000 and ${seconds(w250.r.staging.durationNs)} at HZ 250 (${seconds(w250old.r.staging.durationNs)} before 6.12) before the unstaged load; 10 s with a deadline in time`,
    code: `${code('wait_for_transaction()')} gives up after ${code('MBOX_XACTION_TIMEOUT_MS')} (10,000) iterations of ${code('msleep(1)')} and a STATUS read: the timeout is a count of sleeps, not a time. The spec's range for one ${code('msleep(1)')} is 1-2 jiffies (2-3 before 6.12); in this loop each sleep starts right after the tick that ended the one before, the long end in the model's timing (docs/cost-model.md).`,
    reproduce: [w250.command, `${fix.command}   # the proposed wait`],
    measured: [
      'From the first GO to -ETIMEDOUT (the time the load waits before it goes on unstaged), and the whole write with the CPU hotplug lock held (the 6.12+ runs):',
      '',
      ...table(head, presetRows),
      '',
      `The machine does not matter (the first package's mailbox is dead and staging stops there); HZ and the kernel generation do. At the other tick rates (${code('gnr-2s')}):`,
      '',
      ...table(
        [
          ['HZ', 'right'],
          ['6.12+', 'right'],
          ['before 6.12', 'right'],
          ['readl_poll_timeout()', 'right'],
        ],
        hzRows,
      ),
      '',
      `The nominal "10 s" is ${seconds(w1000.r.staging.durationNs)} at HZ 1000 and ${seconds(w250.r.staging.durationNs)} at HZ 250, up to ${seconds(worst)} at HZ 100 before 6.12. A mailbox that raises ERROR without READY (${code('--fault error-status-not-ready@0')}) or a missing one that reads 0 waits as long. Meanwhile the task that wrote the reload file sleeps with the CPU hotplug lock held; then the load goes on unstaged and the stop window is the unstaged one (${seconds(sw)} instead of ${seconds(staged.stopWindow!.durationNs)} with the image staged).`,
    ],
    proposal: [
      `Bound the wait in time, not in sleeps: ${code('readl_poll_timeout()')} with a 10 s deadline (the same change as finding 2). Modelled by ${code('--poll fine --poll-wait readl-poll-timeout --poll-us 10')}.`,
    ],
    withProposal: [...table(head, fixRows), '', 'The nominal 10 s, at every HZ and on every kernel.'],
    evidence: [
      `wait_for_transaction() counts its timeout in msleep(1) calls: MBOX_XACTION_TIMEOUT_MS iterations of a sleep that lasts at least a jiffy plus the rounding to the next tick. A mailbox that never becomes ready is thus given up after ${seconds(w1000.r.staging.durationNs)} at HZ=1000 and ${seconds(w250.r.staging.durationNs)} at HZ=250 (${seconds(w250old.r.staging.durationNs)} on pre-6.12 kernels), not 10 s, while the writer of the reload file holds the CPU hotplug lock; only then does the load fall back to the unstaged path. Use readl_poll_timeout() with a 10 s deadline so that the timeout means 10 s at any HZ.`,
    ],
  });
}
