import { type Finding, finding } from './finding.js';
import { code, grouped, millis, seconds, table } from './format.js';
import { HZS, type Hz, TABLE_PRESETS } from './machines.js';
import { lockHeldNs, type Runner, stagedPackages } from './runner.js';

/** Finding 1: the dedupe compares with the previous primary only. */
export function numberingFinding(runner: Runner): Finding {
  const rows = (dedupe: 'previous-package' | 'distinct') =>
    TABLE_PRESETS.map((machine) => {
      const at = HZS.map((hz) => runner.run({ machine, cost: { hz }, ...policyOf(dedupe) }).r);
      const r = at[0]!;
      const m = r.machine;
      return [
        machine,
        `${m.numbering.packages}, SMT ${m.numbering.smt}`,
        String(m.packages),
        r.staging.attempted ? grouped(r.staging.packages.length) : 'no staging',
        ...at.map((x) => (x.staging.attempted ? seconds(x.staging.durationNs) : '-')),
        ...at.map((x) => seconds(lockHeldNs(x))),
      ];
    });
  const head = [
    'preset',
    'CPU numbering',
    ['packages', 'right'],
    ['staging passes', 'right'],
    ['staging, HZ 250', 'right'],
    ['staging, HZ 1000', 'right'],
    ['hotplug lock held, HZ 250', 'right'],
    ['hotplug lock held, HZ 1000', 'right'],
  ] as const;

  const il = (hz: Hz, distinct = false) =>
    runner.run({
      machine: 'gnr-2s-interleaved',
      cost: { hz },
      ...policyOf(distinct ? 'distinct' : 'previous-package'),
    });
  const k250 = il(250);
  const k1000 = il(1000);
  const d250 = il(250, true);
  const passes = k250.r.staging.packages.length;
  const packages = stagedPackages(k250.r);
  const perPackage = passes / packages;
  const plain = runner.run({ machine: 'gnr-2s', cost: { hz: 250 } }).r;

  return finding({
    n: 1,
    title: 'CPU numbering: interleaved numbering stages every package once per primary thread',
    headline: `gnr-2s numbered across sockets: ${passes} staging passes instead of ${packages}, ${seconds(k250.r.staging.durationNs)} with the CPU hotplug lock held at HZ 250 (${seconds(k1000.r.staging.durationNs)} at HZ 1000)`,
    code: `${code('stage_microcode()')} walks ${code('cpu_primary_thread_mask')} in CPU order and skips a primary thread only when ${code('topology_logical_package_id(cpu)')} equals the previous primary's. Numbered package by package, that stages each package once. Numbered across sockets (NUMA node0 = CPUs 0,2,4,...), consecutive primaries alternate packages, nothing is ever skipped, and each package is staged once per primary thread: every pass resets the mailbox (ABORT) and sends the whole image again.`,
    reproduce: [k250.command, `${d250.command}   # the proposed walk`],
    measured: [
      ...table(head, rows('previous-package')),
      '',
      `On ${code('gnr-2s-interleaved')} (${code('gnr-2s')} with CPUs numbered across sockets) the walk makes ${grouped(passes)} passes for ${packages} packages: each package is staged ${grouped(perPackage)} times, ${grouped(perPackage * k250.r.staging.packages[0]!.bytesSent)} bytes through each mailbox instead of ${grouped(k250.r.staging.packages[0]!.bytesSent)}. The reload write holds the CPU hotplug lock (${code('cpus_read_lock()')} in ${code('reload_store()')}) for all of it: ${seconds(lockHeldNs(k250.r))} at HZ 250, ${seconds(lockHeldNs(k1000.r))} at HZ 1000, against ${seconds(lockHeldNs(plain))} for the same machine numbered package by package. The stop window is the same (${millis(k250.r.stopWindow!.durationNs)}): the cost is all before it, in process context, but no CPU can go on- or offline meanwhile and the write does not return. Kernels before 6.12 add half again (finding 2).`,
    ],
    proposal: [
      `Stage each package once whatever the numbering: remember the packages already staged (a bitmap of ${code('topology_max_packages()')} bits, or walk the packages and pick one online primary thread in each) instead of comparing with the previous primary. Modelled by ${code('--dedupe distinct')}.`,
    ],
    withProposal: [
      ...table(head, rows('distinct')),
      '',
      `${code('gnr-2s-interleaved')} now stages ${d250.r.staging.packages.length} times, as its package-major twin does: ${seconds(d250.r.staging.durationNs)} at HZ 250 instead of ${seconds(k250.r.staging.durationNs)}.`,
    ],
    evidence: [
      `stage_microcode() skips a primary thread only when its package equals the previous primary thread's. On a two-socket machine whose BIOS numbers CPUs across sockets (node0 = 0,2,4,...), consecutive primary threads alternate packages, so each package is staged once per primary thread: on a model of a 2 x 128-core Granite Rapids-class machine, ${grouped(passes)} staging passes instead of ${packages}, ${seconds(k250.r.staging.durationNs)} at HZ=250 (${seconds(k1000.r.staging.durationNs)} at HZ=1000) with the CPU hotplug lock held, against ${seconds(plain.staging.durationNs)} when numbered by package. Track the packages already staged instead, so that each mailbox is written once.`,
    ],
  });
}

function policyOf(dedupe: 'previous-package' | 'distinct'): { policy?: { dedupe: 'distinct' } } {
  return dedupe === 'distinct' ? { policy: { dedupe } } : {};
}
