import { type Finding, finding } from './finding.js';
import { code, grouped, seconds, table, times } from './format.js';
import { HZS, STAGING_PRESETS } from './machines.js';
import type { Runner } from './runner.js';

const PARALLEL = { stageOrder: 'parallel' } as const;

/** Finding 3: packages are staged one after another. */
export function serialFinding(runner: Runner): Finding {
  const rows = STAGING_PRESETS.map((machine) => {
    const cells: string[] = [machine];
    let packages = 0;
    for (const hz of HZS) {
      const serial = runner.run({ machine, cost: { hz } }).r;
      const parallel = runner.run({ machine, cost: { hz }, policy: PARALLEL }).r;
      packages = serial.machine.packages;
      const one = serial.staging.packages[0]!;
      cells.push(
        seconds(serial.staging.durationNs),
        times(serial.staging.durationNs / (one.endNs - one.startNs)),
        seconds(parallel.staging.durationNs),
        seconds(serial.staging.durationNs - parallel.staging.durationNs),
      );
    }
    cells.splice(1, 0, String(packages));
    return cells;
  });
  const s250 = runner.run({ machine: 'gnr-8s', cost: { hz: 250 } });
  const p250 = runner.run({ machine: 'gnr-8s', cost: { hz: 250 }, policy: PARALLEL });
  const s1000 = runner.run({ machine: 'gnr-8s', cost: { hz: 1000 } }).r;
  const p1000 = runner.run({ machine: 'gnr-8s', cost: { hz: 1000 }, policy: PARALLEL }).r;
  const both = runner.run({
    machine: 'gnr-8s',
    cost: { hz: 250 },
    policy: { ...PARALLEL, poll: 'fine', pollWait: 'readl-poll-timeout', pollUs: 10 },
  });
  const head = [
    'preset',
    ['packages', 'right'],
    ['HZ 250: serial (6.19)', 'right'],
    ['x one package', 'right'],
    ['parallel', 'right'],
    ['saved', 'right'],
    ['HZ 1000: serial (6.19)', 'right'],
    ['x one package', 'right'],
    ['parallel', 'right'],
    ['saved', 'right'],
  ] as const;
  return finding({
    n: 3,
    title: 'Packages are staged one after another',
    headline: `gnr-8s: the staging step takes ${seconds(s250.r.staging.durationNs)} at HZ 250, 8 times one package; staged in parallel ${seconds(p250.r.staging.durationNs)}`,
    code: `${code('stage_microcode()')} calls ${code('do_stage()')} for each package in turn, from the task that wrote the reload file. Each package has its own mailbox and the transfer is preemptible process-context work, but package n+1 starts only when package n has finished.`,
    reproduce: [s250.command, `${p250.command}   # one worker per package`],
    measured: [
      'The staging step and what parallel staging gives (columns "parallel" and "saved" are with the change):',
      '',
      ...table(head, rows),
      '',
      `An 8-socket machine waits ${times(s250.r.staging.durationNs / (s250.r.staging.packages[0]!.endNs - s250.r.staging.packages[0]!.startNs))} one package: ${seconds(s250.r.staging.durationNs)} at HZ 250, ${seconds(s1000.staging.durationNs)} at HZ 1000, all of it with the CPU hotplug lock held. The stop window does not change (${code('staging')} happens before ${code('stop_machine()')}).`,
    ],
    proposal: [
      `Stage the packages concurrently: one worker per package (for instance a work item queued on a CPU of each package, or one kthread each), each running ${code('do_stage()')} on its own mailbox, and ${code('stage_microcode()')} waits for all of them. The image buffer is only read. A failure no longer stops the packages that are already running: report the first failure in time and fall back as today (packages that completed keep their staged copy and apply faster). Modelled by ${code('--stage-order parallel')}: workers run at the same virtual time, the one furthest behind goes on by one transaction, so the log comes in time order and the mailboxes' accesses transaction by transaction; the staging outcome line is marked as not the kernel's.`,
    ],
    withProposal: [
      `The table above has it: the staging step takes one package's time, ${seconds(p250.r.staging.durationNs)} on gnr-8s at HZ 250 and ${seconds(p1000.staging.durationNs)} at HZ 1000. With finding 2's wait as well (${code('--stage-order parallel --poll fine --poll-wait readl-poll-timeout')}): ${seconds(both.r.staging.durationNs)}.`,
      '',
      ...['```sh', both.command, '```'],
    ],
    evidence: [
      `stage_microcode() stages one package at a time although each package has its own mailbox. The time adds up: in a model of an 8-socket Granite Rapids-class machine with a ${grouped(s250.r.image!.totalSize)}-byte image, the staging step takes ${seconds(s250.r.staging.durationNs)} at HZ=250 (${seconds(s1000.staging.durationNs)} at HZ=1000), eight times one package, while the reload write holds the CPU hotplug lock. Staging the packages from one worker each brings it to one package's time (${seconds(p250.r.staging.durationNs)} at HZ=250); the stop window is unchanged.`,
    ],
  });
}
