import type { PolicyInput } from '../kernel/policy.js';
import type { SimulationResult } from '../sim/result-types.js';
import { type Finding, finding } from './finding.js';
import { code, grouped, millis, seconds, table, times } from './format.js';
import { HZS, STAGING_PRESETS } from './machines.js';
import type { Runner } from './runner.js';

/** The proposed wait: readl_poll_timeout() with a 10 us sleep and a 10 s deadline. */
export const PROPOSED_POLL: PolicyInput = { poll: 'fine', pollWait: 'readl-poll-timeout', pollUs: 10 };

/** One package's pass (the first). */
function pass(r: SimulationResult) {
  const p = r.staging.packages[0]!;
  return { ns: p.endNs - p.startNs, transactions: p.chunks };
}

/** Finding 2: one msleep(1) per transaction. */
export function msleepFinding(runner: Runner): Finding {
  const kernelRows: string[][] = [];
  const fixRows: string[][] = [];
  for (const machine of STAGING_PRESETS) {
    for (const hz of HZS) {
      const cur = runner.run({ machine, cost: { hz } }).r;
      const old = runner.run({ machine, cost: { hz, kernelGeneration: 'pre-6.12' } }).r;
      const fix = runner.run({ machine, cost: { hz }, policy: PROPOSED_POLL }).r;
      const fixOld = runner.run({
        machine,
        cost: { hz, kernelGeneration: 'pre-6.12' },
        policy: PROPOSED_POLL,
      }).r;
      kernelRows.push([
        machine,
        String(hz),
        grouped(pass(cur).transactions),
        millis(pass(cur).ns / pass(cur).transactions),
        seconds(pass(cur).ns),
        seconds(pass(old).ns),
        seconds(cur.staging.durationNs),
        seconds(old.staging.durationNs),
      ]);
      fixRows.push([
        machine,
        String(hz),
        millis(pass(fix).ns / pass(fix).transactions),
        seconds(pass(fix).ns),
        seconds(fix.staging.durationNs),
        seconds(fixOld.staging.durationNs),
        times(cur.staging.durationNs / fix.staging.durationNs),
      ]);
    }
  }
  const c250 = runner.run({ machine: 'gnr-2s', cost: { hz: 250 } });
  const o250 = runner.run({ machine: 'gnr-2s', cost: { hz: 250, kernelGeneration: 'pre-6.12' } });
  const c1000 = runner.run({ machine: 'gnr-2s', cost: { hz: 1000 } });
  const f250 = runner.run({ machine: 'gnr-2s', cost: { hz: 250 }, policy: PROPOSED_POLL });
  const tx = pass(c250.r).transactions;
  const busy = f250.r;

  // The ways of waiting, on gnr-2s: per package, and what a dead mailbox costs (finding 4).
  const waits: { label: string; policy: PolicyInput | undefined }[] = [
    { label: '`msleep(1)`, 10,000 times (6.19)', policy: undefined },
    { label: '`udelay(10)`, 1,000,000 times (`--poll fine`)', policy: { poll: 'fine', pollUs: 10 } },
    {
      label: '`usleep_range(10, 20)`, 1,000,000 times (`--poll-wait usleep-range`)',
      policy: { poll: 'fine', pollWait: 'usleep-range', pollUs: 10 },
    },
    {
      label: '`readl_poll_timeout(.., 10, 10 s)` (`--poll-wait readl-poll-timeout`)',
      policy: PROPOSED_POLL,
    },
  ];
  const waitRows = waits.map(({ label, policy }) => {
    const p = policy === undefined ? {} : { policy };
    const per = HZS.map((hz) => pass(runner.run({ machine: 'gnr-2s', cost: { hz }, ...p }).r).ns);
    const dead = HZS.flatMap((hz) =>
      (['6.12+', 'pre-6.12'] as const).map(
        (kernelGeneration) =>
          runner.run({
            machine: 'gnr-2s',
            cost: { hz, kernelGeneration },
            faults: [{ value: { kind: 'never-ready', atTransaction: 0 } }],
            ...p,
          }).r.staging.durationNs,
      ),
    );
    const lo = Math.min(...dead);
    const hi = Math.max(...dead);
    return [label, ...per.map(seconds), lo === hi ? seconds(lo) : `${seconds(lo)} .. ${seconds(hi)}`];
  });

  return finding({
    n: 2,
    title: 'The msleep(1) in every transaction is most of the staging time',
    headline: `${grouped(tx)} transactions per package for a ${grouped(c250.r.image!.totalSize)}-byte image, each waiting ${millis(pass(c250.r).ns / tx)} at HZ 250: ${seconds(pass(c250.r).ns)} per package (${seconds(pass(o250.r).ns)} before 6.12), ${seconds(pass(busy).ns)} with readl_poll_timeout()`,
    code: `${code('send_data_chunk()')} writes one 4 KB chunk, then ${code('wait_for_transaction()')} sleeps ${code('msleep(1)')} before every STATUS read. ${code('msleep(1)')} sleeps until the jiffy boundary after one whole jiffy has passed (since 6.12; one jiffy more before), and the device is ready long before: every transaction costs two jiffies (three before 6.12), whatever the device needs.`,
    reproduce: [c250.command, o250.command, `${f250.command}   # the proposed wait`],
    measured: [
      ...table(
        [
          'preset',
          ['HZ', 'right'],
          ['transactions per package', 'right'],
          ['per transaction', 'right'],
          ['per package, 6.12+', 'right'],
          ['per package, before 6.12', 'right'],
          ['staging step, 6.12+', 'right'],
          ['staging step, before 6.12', 'right'],
        ],
        kernelRows,
      ),
      '',
      `A ${grouped(c250.r.image!.totalSize)}-byte image (Intel's largest public blob) is ${grouped(tx)} transactions. Writing a chunk's 1,029 dwords takes about 0.1 ms and the device is assumed ready 0.1 ms after GO (docs/cost-model.md), yet each transaction costs ${millis(pass(c1000.r).ns / tx)} at HZ 1000 and ${millis(pass(c250.r).ns / tx)} at HZ 250: the sleep, not the transfer, sets the pace (about ${Math.round((1 - pass(busy).ns / pass(c250.r).ns) * 100)}% of the staging time at HZ 250 is sleep). Debian and Ubuntu kernels run at HZ 250, so there one package takes ${seconds(pass(c250.r).ns)}, and ${seconds(pass(o250.r).ns)} on kernels before 6.12 (where a backport would land). An 8-socket machine multiplies it by 8 (finding 3).`,
    ],
    proposal: [
      `Poll without the jiffy: ${code('readl_poll_timeout(mmio_base + MBOX_STATUS_OFFSET, status, status & MASK_MBOX_STATUS_READY, 10, 10 * USEC_PER_SEC)')}, which reads first, sleeps about 10 us between reads, and gives up after 10 s of time rather than 10,000 sleeps. Modelled by ${code('--poll fine --poll-wait readl-poll-timeout --poll-us 10')}. The other ways of waiting, for comparison:`,
      '',
      ...table(
        [
          'wait between STATUS reads',
          ['per package, HZ 250', 'right'],
          ['per package, HZ 1000', 'right'],
          ['a dead mailbox costs (HZ 250/1000, both generations)', 'right'],
        ],
        waitRows,
      ),
      '',
      `${code('udelay()')} busy-waits the CPU for the whole transfer; ${code('usleep_range(10, 20)')} sleeps but, with the iteration count kept, a dead mailbox still costs a count of sleeps (the model charges each at its upper end, 20 us); ${code('readl_poll_timeout()')} bounds the wait in time.`,
    ],
    withProposal: [
      ...table(
        [
          'preset',
          ['HZ', 'right'],
          ['per transaction', 'right'],
          ['per package', 'right'],
          ['staging step, 6.12+', 'right'],
          ['staging step, before 6.12', 'right'],
          ['faster than 6.19 (6.12+)', 'right'],
        ],
        fixRows,
      ),
      '',
      'HZ and the kernel generation no longer enter: the transfer is paced by the MMIO writes and the device.',
    ],
    evidence: [
      `wait_for_transaction() sleeps msleep(1) before each STATUS read, and msleep(1) sleeps until a jiffy boundary at least one full jiffy away. A staging transaction thus costs two jiffies (three before 6.12) even when the device answers within microseconds. A ${grouped(c250.r.image!.totalSize)}-byte image is ${grouped(tx)} transactions, so staging one package takes ${seconds(pass(c1000.r).ns)} at HZ=1000 and ${seconds(pass(c250.r).ns)} at HZ=250 (${seconds(pass(o250.r).ns)} on pre-6.12 kernels), nearly all of it asleep. Poll with readl_poll_timeout() and a 10 s deadline instead: in the model a package then stages in ${seconds(pass(busy).ns)} at any HZ, and a dead mailbox costs 10 s rather than 10,000 jiffy-rounded sleeps.`,
    ],
  });
}
