import { runCampaign } from '../campaign/run-campaign.js';
import {
  type CampaignSpace,
  DEFAULT_SPACE,
  type DrawnRun,
  drawRun,
  replayArgs,
  replayMachineFile,
  runSeed,
  simulateOptions,
} from '../campaign/space.js';
import { EIO, ETIMEDOUT } from '../kernel/errno.js';
import { KERNEL_LIMITS } from '../kernel/limits.js';
import type { MachineFileInput } from '../sim/machine-input.js';
import type { SimulationResult } from '../sim/result-types.js';
import { commandLine, formatFault } from '../sim/run-args.js';
import { type SimulateOptions, simulate } from '../sim/simulate.js';
import { type Finding, finding } from './finding.js';
import { code, grouped, seconds, table } from './format.js';
import { FINDINGS_DIR } from './machines.js';
import { lockHeldNs } from './runner.js';

// Finding 7: a campaign over the whole space the campaign draws from, each run
// classified by what the kernel did badly. 20,000 runs take about a minute, so
// `npm run findings` runs them and keeps the result in campaign-data.ts; the
// test runs every 100th run again and checks it gets the same classes.

/** The space: every knob the campaign has, each with every value. */
export const WIDE_SPACE: CampaignSpace = {
  ...DEFAULT_SPACE,
  random: { maxPackages: 4, maxCores: 8, threads: [1, 2, 4] },
  budgets: ['2x', 'per-chunk'],
  dedupes: ['previous-package', 'distinct'],
  polls: ['msleep', 'fine'],
  kernels: ['6.12+', 'pre-6.12'],
  hz: [100, 250, 300, 1000],
};
export const CAMPAIGN_RUNS = 20_000;
export const CAMPAIGN_SEED = 1;

/** The same campaign from the command line. */
export const CAMPAIGN_COMMAND = commandLine([
  'campaign',
  '--runs',
  String(CAMPAIGN_RUNS),
  '--seed',
  String(CAMPAIGN_SEED),
  '--check-every',
  '0',
  '--max-packages',
  '4',
  '--threads',
  '1,2,4',
  '--budgets',
  '2x,per-chunk',
  '--dedupes',
  'previous-package,distinct',
  '--polls',
  'msleep,fine',
  '--kernels',
  '6.12+,pre-6.12',
  '--hz',
  '100,250,300,1000',
]);

/** Outcome classes the kernel handles badly, one bit each (in this order). */
export const BAD_CLASSES = [
  {
    key: 'never-returns',
    title: 'staging never returns',
    kernel:
      'do_stage() loops for ever (finding 5): the reload write never returns, the CPU hotplug lock stays held, nothing is printed',
    fix: '`--offset-check strict` or `--transaction-limit 2x`',
  },
  {
    key: 'hang',
    title: 'stop_machine() never completes',
    kernel:
      'a CPU never reaches stop_machine() or the microcode handler: multi_cpu_stop() has no timeout, every CPU spins with interrupts off for ever',
    fix: 'outside the loader (stop_machine() has no timeout by design)',
  },
  {
    key: 'panic',
    title: 'panic in the rendezvous',
    kernel:
      'an SMT sibling waited 1 s for its primary (an unstaged WRMSR 0x79 over a second, finding 6) and called panic()',
    fix: '`--staging require` (no unstaged fallback)',
  },
  {
    key: 'full-timeout',
    title: 'the whole poll budget waited out',
    kernel:
      'a dead or erroring mailbox kept the reload waiting all 10,000 sleeps (finding 4) before staging failed and the load went on unstaged',
    fix: '`--poll fine --poll-wait readl-poll-timeout`',
  },
  {
    key: 'false-success',
    title: 'success printed, image not staged',
    kernel:
      '"Staging of patch revision ... succeeded." although a package holds no usable staged copy: its cores paid the unstaged apply',
    fix: 'check the response status bit 0 and the staged revision (not modelled)',
  },
  {
    key: 'low-memory',
    title: 'staged into physical address 0',
    kernel:
      'MSR 0x7a5 raised #GP, the fixup read 0, and do_stage() wrote ABORT, GO and the request into low memory (the real-mode vector table)',
    fix: 'use rdmsrq_safe_on_cpu() and stop on its error (not modelled)',
  },
  {
    key: 'repeated',
    title: 'a package staged more than once',
    kernel:
      'interleaved CPU numbering: the previous-package dedupe staged a package once per primary thread (finding 1)',
    fix: '`--dedupe distinct`',
  },
  {
    key: 'unsent-bytes',
    title: 'bytes counted but not sent',
    kernel:
      'an unaligned next offset: the request carried fewer bytes than bytes_sent counted (a byte-at-a-time budget, finding 5)',
    fix: '`--offset-check strict`',
  },
] as const;
export type BadClass = (typeof BAD_CLASSES)[number]['key'];

/** The classes of one run as a bit mask over BAD_CLASSES. */
export function classify(r: SimulationResult, run: DrawnRun): number {
  const has: Record<BadClass, boolean> = {
    'never-returns': r.outcome === 'kernel-does-not-terminate',
    hang: r.outcome === 'hang',
    panic: r.outcome === 'panic',
    'full-timeout': r.staging.packages.some(
      (p) => (p.errno === -ETIMEDOUT || p.errno === -EIO) && p.polls >= pollIterations(run),
    ),
    'false-success':
      r.staging.ok && r.applies.some((a) => a.outcome === 'updated' && !a.staged && r.stopWindow !== null),
    'low-memory': r.staging.packages.some((p) => p.msrFault === true),
    repeated: r.staging.packages.length > new Set(r.staging.packages.map((p) => p.pkg)).size,
    'unsent-bytes': r.staging.packages.some((p) => p.bytesSent > 4 * (p.dwordsWritten - 4 * p.chunks)),
  };
  return BAD_CLASSES.reduce((mask, c, bit) => (has[c.key] ? mask | (1 << bit) : mask), 0);
}

/** A run that threw (none should): its own mask. */
const THREW = 0xff;

function pollIterations(run: DrawnRun): number {
  return run.poll === 'fine' ? Math.ceil(10_000_000 / 10) : KERNEL_LIMITS.stagingPollIterations;
}

/** A run with the kernel's own choices everywhere (a better example than one with policies). */
function kernelLike(run: DrawnRun): boolean {
  return (
    run.policy === 'auto' && run.budget === '2x' && run.dedupe === 'previous-package' && run.poll === 'msleep'
  );
}

/** What drew a run into a class: the part of its draw that matters for that class. */
export function causeOf(run: DrawnRun, key: BadClass): string {
  const fault = run.fault
    ? run.fault.fault
      ? formatFault(run.fault.fault).replace(/@\d+|%[\d.]+/, '')
      : run.fault.kind
    : 'no mailbox fault';
  const cpu = run.cpuFault ? `CPU ${run.cpuFault.kind}` : undefined;
  switch (key) {
    case 'hang':
      return cpu ?? 'no CPU fault';
    case 'panic':
      return (
        [run.slowApply ? 'unstaged WRMSR 0x79 of 1.2 s' : undefined, cpu]
          .filter((x) => x !== undefined)
          .join(' + ') || fault
      );
    case 'repeated': {
      const spec = run.machine.kind === 'random' ? run.machine.spec : undefined;
      return `${spec?.numbering?.packages ?? 'preset'} numbering, ${run.packages} packages`;
    }
    default:
      return fault;
  }
}

export interface ClassSummary {
  key: BadClass;
  runs: number;
  /** The most frequent causes, [cause, runs], most first (ties by name). */
  causes: [string, number][];
  /** A run of the class: the first with the kernel's own policies, else the first. */
  example: number;
  /** Longest finite time the CPU hotplug lock was held in the class (ns), -1 when none returned. */
  longestHeldNs: number;
}

export interface CampaignSummary {
  runs: number;
  seed: number;
  outcomes: Record<string, number>;
  failingCount: number;
  /** The first runs that violated an invariant: the model's own rules (not the kernel's). */
  failing: { index: number; seed: number; violations: string[] }[];
  checks: number;
  classes: ClassSummary[];
  /** Two hex digits per run: its class mask. */
  masks: string;
}

/** Run the wide campaign (about a minute) and summarize it. */
export function runWideCampaign(
  runs = CAMPAIGN_RUNS,
  seed = CAMPAIGN_SEED,
  onProgress?: (done: number, total: number) => void,
): CampaignSummary {
  const masks = new Uint8Array(runs);
  const seeds = Array.from({ length: runs }, (_, i) => runSeed(seed, i));
  const held = new Float64Array(runs).fill(-1);
  let next = 0;
  const sim = (opts: SimulateOptions): SimulationResult => {
    // A failing run is simulated again: only the first call of each run counts.
    const index = next > 0 && seeds[next - 1] === opts.seed ? -1 : next++;
    try {
      const r = simulate(opts);
      if (index >= 0) {
        masks[index] = classify(r, drawRun(WIDE_SPACE, seeds[index]!));
        const h = lockHeldNs(r);
        if (Number.isFinite(h)) held[index] = h;
      }
      return r;
    } catch (err) {
      if (index >= 0) masks[index] = THREW;
      throw err;
    }
  };
  const report = runCampaign({
    space: WIDE_SPACE,
    runs,
    seed,
    determinismEvery: 0,
    simulate: sim,
    ...(onProgress ? { onProgress: (done: number, total: number) => onProgress(done, total) } : {}),
  });
  if (next !== runs) throw new Error(`the campaign simulated ${next} runs, expected ${runs}`);
  const classes = BAD_CLASSES.map((c, bit): ClassSummary => {
    const causes = new Map<string, number>();
    let count = 0;
    let example = -1;
    let kernelExample = -1;
    let longest = -1;
    for (let i = 0; i < runs; i++) {
      if (masks[i] === THREW || !(masks[i]! & (1 << bit))) continue;
      count++;
      const run = drawRun(WIDE_SPACE, seeds[i]!);
      if (example < 0) example = i;
      if (kernelExample < 0 && kernelLike(run)) kernelExample = i;
      longest = Math.max(longest, held[i]!);
      const cause = causeOf(run, c.key);
      causes.set(cause, (causes.get(cause) ?? 0) + 1);
    }
    if (kernelExample >= 0) example = kernelExample;
    const top = [...causes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
    return { key: c.key, runs: count, causes: top, example, longestHeldNs: longest };
  });
  const checks = report.invariants.reduce((n, t) => n + t.checks, 0);
  const outcomes = Object.fromEntries(Object.entries(report.outcomes).sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  return {
    runs,
    seed,
    outcomes,
    failingCount: report.failingCount,
    failing: report.failing.slice(0, 10).map((f) => ({
      index: f.index,
      seed: f.seed,
      violations: f.violations.map((v) => `${v.invariant}: ${v.message}`),
    })),
    checks,
    classes,
    masks: Array.from(masks, (m) => m.toString(16).padStart(2, '0')).join(''),
  };
}

/** Run `index` of the campaign again and classify it. */
export function classifyRun(index: number, seed = CAMPAIGN_SEED): number {
  const run = drawRun(WIDE_SPACE, runSeed(seed, index));
  try {
    return classify(simulate(simulateOptions(run)), run);
  } catch {
    return THREW;
  }
}

/** The mask the summary recorded for run `index`. */
export function recordedMask(summary: CampaignSummary, index: number): number {
  return Number.parseInt(summary.masks.slice(2 * index, 2 * index + 2), 16);
}

/** Where a class's example run's machine file goes, and the file (random machines need one). */
export function exampleFile(
  key: BadClass,
  index: number,
  seed = CAMPAIGN_SEED,
): {
  path: string;
  machine: MachineFileInput | undefined;
  command: string;
} {
  const run = drawRun(WIDE_SPACE, runSeed(seed, index));
  const machine = replayMachineFile(run);
  const path = `${FINDINGS_DIR}/campaign-${key}.json`;
  return { path, machine, command: commandLine(replayArgs(run, machine ? path : undefined)) };
}

/** The violation count in words, with the first violations when there are any. */
function violations(s: CampaignSummary): string {
  if (s.failingCount === 0) return 'no violation: the model kept its own rules in every run';
  const first = s.failing
    .map((f) => `run ${f.index} (seed ${f.seed}): ${f.violations.join('; ')}`)
    .join('; ');
  return `${grouped(s.failingCount)} run${s.failingCount === 1 ? '' : 's'} violating one (a finding about the model, not the kernel: ${first})`;
}

/** Finding 7, from a campaign summary. */
export function campaignFinding(s: CampaignSummary): Finding {
  const total = s.runs;
  const pct = (n: number) => (total === 0 ? '-' : `${((100 * n) / total).toFixed(2)}%`);
  const present = s.classes.filter((c) => c.runs > 0);
  const rows = present.map((c) => {
    const def = BAD_CLASSES.find((d) => d.key === c.key)!;
    return [
      def.title,
      grouped(c.runs),
      pct(c.runs),
      c.causes.map(([cause, n]) => `${cause} (${grouped(n)})`).join('; '),
      def.kernel,
      held(c),
      def.fix,
    ];
  });
  const examples = present.flatMap((c) => {
    const def = BAD_CLASSES.find((d) => d.key === c.key)!;
    return [
      `- ${def.title} (run ${c.example}):`,
      '',
      ...['  ```sh', `  ${exampleFile(c.key, c.example, s.seed).command}`, '  ```'],
      '',
    ];
  });
  const outcomeRows = Object.entries(s.outcomes).map(([o, n]) => [code(o), grouped(n), pct(n)]);
  const never = classOf(s, 'never-returns');
  const timeout = classOf(s, 'full-timeout');
  return finding({
    n: 7,
    title: 'What a campaign over the whole space turns up',
    headline: `${grouped(total)} seeded runs over every knob of the campaign space: ${present.length} classes of outcome the kernel handles badly, ${grouped(never.runs)} runs that never return from staging, ${grouped(timeout.runs)} that wait out the whole poll budget; ${grouped(s.failingCount)} invariant violations`,
    code: 'the whole late-load path: every mailbox fault and scripted answer, device profile, CPU fault, offline CPU, slow apply, both budgets, dedupes, polls and kernel generations, four tick rates, random machines of up to 4 packages x 8 cores x 4 threads with either CPU numbering.',
    reproduce: [CAMPAIGN_COMMAND],
    measured: [
      `${grouped(total)} runs, ${grouped(s.checks)} invariant checks (the model's own rules: docs/reliability.md), ${violations(s)}. The outcomes:`,
      '',
      ...table(['outcome', ['runs', 'right'], ['share', 'right']], outcomeRows),
      '',
      'The classes the kernel handles badly (a run can be in more than one; causes are the injected faults and conditions of the runs, the most frequent first):',
      '',
      ...table(
        [
          'class',
          ['runs', 'right'],
          ['share', 'right'],
          'most frequent causes',
          'what the kernel does',
          ['longest hold of the hotplug lock', 'right'],
          'change',
        ],
        rows,
      ),
      '',
      'One run of each class, to replay (random machines have their machine file in docs/findings/):',
      '',
      ...examples,
    ],
    proposal: [
      'The last column: the changes of findings 1 to 6 bound five of the classes. Two need changes the model does not carry as policies: staging at address 0 (check the MSR read with `rdmsrq_safe_on_cpu()`, or refuse a mailbox address of 0) and a success printed for an image the device did not take (an end marker is accepted whatever the response status says). A CPU that never reaches `stop_machine()` is outside the loader.',
    ],
    withProposal: [
      `Each class's change is shown at full size in its own finding. The campaign space does not draw the new policies (the invariants know the kernel's bounds, not theirs); run a class's example with its flag to see it bounded.`,
    ],
    evidence: [
      `A seeded campaign of ${grouped(total)} late loads over random machines, mailbox faults and scripted device answers found ${grouped(never.runs)} runs (${pct(never.runs)}) in which do_stage() never returns, all from a mailbox that answers the image length as the next offset, and ${grouped(timeout.runs)} runs (${pct(timeout.runs)}) in which a dead mailbox held the reload for the whole 10,000-sleep poll budget before the unstaged fallback.`,
    ],
  });
}

function classOf(s: CampaignSummary, key: BadClass): ClassSummary {
  return s.classes.find((c) => c.key === key) ?? { key, runs: 0, causes: [], example: -1, longestHeldNs: -1 };
}

/** How long a class held the CPU hotplug lock at most. */
function held(c: ClassSummary): string {
  if (c.key === 'never-returns') return 'for ever';
  if (c.key === 'hang') return 'for ever (the machine hangs)';
  if (c.key === 'panic') return 'the machine panics';
  return c.longestHeldNs < 0 ? '-' : seconds(c.longestHeldNs);
}
