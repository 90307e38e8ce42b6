import {
  ALL_FAULT_CHOICES,
  BUDGETS,
  DEDUPES,
  HZ_VALUES,
  KERNEL_GENERATIONS,
  POLLS,
  presetNames,
  RESULT_PARTS,
  RUN_OPTIONS,
  STAGING_MODES,
  SWEEP_KEYS,
} from '../index.js';
import { INSPECT } from './inspect-spec.js';
import type { CliOption, CommandSpec } from './spec.js';

export { INSPECT };

// Every command as data. The parser, --help, the man page, the completions and
// docs/cli.md are generated from these (src/cli/spec.ts, man.ts, completion.ts).

const json = (schema: string, what: string): CliOption => ({
  name: 'json',
  type: 'string',
  arg: 'FILE',
  group: 'output',
  help: `${what} as JSON (schema ucode-staging/${schema}); '-' for standard output`,
  path: true,
});

const output = (name: string, help: string): CliOption => ({
  name,
  type: 'string',
  arg: 'FILE',
  group: 'output',
  help,
  path: true,
});

const OUTPUT_NOTE =
  "Output files: a regular file is replaced atomically, a symlink's target is written, a device or FIFO is written directly, '-' is standard output; an output that is an input is refused. Every output is checked before the run.";

export const SIMULATE: CommandSpec = {
  name: 'simulate',
  summary: 'run one late load with staging on an emulated machine (the main job)',
  usage: '[options]',
  description: `Run one late load (echo 1 > /sys/devices/system/cpu/microcode/reload) on an emulated machine and print the kernel log and a summary. With no options: the 2-socket Granite Rapids-class preset and its firmware from /lib/firmware/intel-ucode, or a synthetic 1.6 MB image when that is absent.

Presets: ${presetNames().join(', ')}.

${OUTPUT_NOTE}`,
  options: [
    ...RUN_OPTIONS,
    json('result@2', 'the whole result'),
    {
      name: 'json-omit',
      type: 'string',
      arg: 'LIST',
      group: 'output',
      help: `leave these bulky parts out of --json (listed in its "omitted" field): ${RESULT_PARTS.join(', ')}`,
      choices: RESULT_PARTS,
    },
    output('trace', 'Chrome trace events (open in https://ui.perfetto.dev)'),
    output('mmiotrace', 'the mailbox traffic in Linux mmiotrace format (streamed; large for many passes)'),
    output('report', 'a self-contained HTML report with a timeline'),
    {
      name: 'quiet',
      short: 'q',
      type: 'boolean',
      group: 'output',
      help: 'print only the summary (no kernel log)',
    },
  ],
  exit: [
    ['0', 'the load completed as the policy expects'],
    ['1', 'it failed, aborted, hung, panicked or never terminated'],
    ['2', 'bad usage or input, or an output that cannot be written'],
  ],
  examples: [
    'ucode-staging simulate -m gnr-8s --report out.html --trace out.json',
    'ucode-staging simulate --fault 1=never-ready@3',
    'ucode-staging simulate -m gnr-2s-interleaved --dedupe distinct',
  ],
};

export const COMPARE: CommandSpec = {
  name: 'compare',
  summary: 'the same load with staging off and on, optionally swept over sizes, HZ, machines',
  usage: '[options] [--sweep KEY=V1,V2,...]...',
  description: `Run the same machine and image with staging off and on and compare the stop window (first CPU stopped to last released), the staging time and the whole reload. With --sweep, do that for every combination of the values given.

${OUTPUT_NOTE}`,
  options: [
    ...RUN_OPTIONS,
    {
      name: 'sweep',
      type: 'string',
      multiple: true,
      arg: 'KEY=V1,V2,...',
      group: 'sweep',
      help: `try every value: image-size (synthetic sizes, e.g. 256K,1M,1.6M), machine (presets or files), hz (${HZ_VALUES.join(', ')}), kernel (${KERNEL_GENERATIONS.join(', ')}), profile (specs as for --profile, separated by ';'), poll (${POLLS.join(', ')}); repeatable, at most 10000 points`,
      choices: SWEEP_KEYS.map((k) => `${k}=`),
    },
    json('compare@1', 'the table'),
    output('report', 'HTML report with both timelines and side-by-side charts'),
  ],
  exit: [
    ['0', 'both runs of every point updated the machine'],
    ['1', 'a run did not (the table says which and why)'],
    ['2', 'bad usage or input'],
  ],
  examples: ['ucode-staging compare --sweep image-size=256K,1M,4M,16M --sweep hz=250,1000'],
};

const list = (
  group: string,
  name: string,
  arg: string,
  help: string,
  dflt: string,
  choices?: readonly string[],
) =>
  ({ name, type: 'string', arg, group, help, default: dflt, ...(choices ? { choices } : {}) }) as CliOption;

export const CAMPAIGN: CommandSpec = {
  name: 'campaign',
  summary: 'many seeded runs over a space of machines, faults and policies, with invariant checks',
  usage: '[--runs N] [--seed S] [options]',
  description: `Run N seeded simulations over a space of machines, mailbox profiles, faults, policies and HZ, and check invariants on every run: every run ends; a completed staging left a byte-identical copy; every core ends at the new or the old revision; a staging failure's errno and log line match the fault; the policy was obeyed; the host never misuses the mailbox; the kernel's limits hold to the step (1 s rendezvous and sibling waits, 0.5 s offline kick, 10,000 polls, the 2x budget); the same seed gives the same result. Prints a table by fault kind and policy. Any failing run can be replayed exactly with 'ucode-staging simulate' (see --failing).

Lists are comma-separated; each run draws one value of each. 'campaign merge PART.json...' joins the parts written by --shard into the report of the whole campaign (see docs/campaign-scale.md).`,
  options: [
    list('run', 'runs', 'N', 'number of runs', '1000'),
    list('run', 'seed', 'S', 'campaign seed, 0..4294967295; run i has its own seed from S and i', '1'),
    list('run', 'check-every', 'N', 'run every N-th run twice and compare the results (0: never)', '50'),
    list('run', 'jobs', 'N', 'worker threads; any N gives the same report', 'the number of CPUs'),
    list(
      'run',
      'shard',
      'K/N',
      "run only slice K of N (K from 0), e.g. --shard $JOB_COMPLETION_INDEX/64, and write its part with --json; 'campaign merge' joins the parts",
      'the whole campaign',
    ),
    list('space', 'machines', 'LIST', `presets (${presetNames().join(', ')}) and/or random`, 'random'),
    list('space', 'max-packages', 'N', 'random machines: 1..N packages', '2'),
    list('space', 'max-cores', 'N', 'random machines: 1..N cores per package', '8'),
    list('space', 'threads', 'LIST', 'random machines: threads per core, from 1,2,4', '1,2'),
    list(
      'space',
      'faults',
      'LIST|all|none',
      `mailbox faults, from: ${ALL_FAULT_CHOICES.filter((f) => f !== 'none').join(', ')}; 'none' in a list means runs without a fault; 'all' is every kind and none`,
      'all',
    ),
    list(
      'space',
      'placements',
      'LIST',
      'where a device fault fires: at (a transaction index), probability',
      'at,probability',
    ),
    list('space', 'probabilities', 'LIST', 'per-transaction fault probabilities', '0.02,0.1,0.5'),
    list(
      'space',
      'profiles',
      'LIST',
      "mailbox profiles: ideal, slow, limited-cache (random parameters), or exact specs as for simulate --profile separated by ';'",
      'ideal,slow,limited-cache',
    ),
    list('space', 'policies', 'LIST', `staging policies, from ${STAGING_MODES.join(', ')}`, 'all three'),
    list('space', 'budgets', 'LIST', `re-send budgets, from ${BUDGETS.join(', ')}`, "2x, the kernel's"),
    list('space', 'dedupes', 'LIST', `package dedupes, from ${DEDUPES.join(', ')}`, 'previous-package'),
    list('space', 'polls', 'LIST', `STATUS polls, from ${POLLS.join(', ')}`, 'msleep'),
    list('space', 'kernels', 'LIST', `msleep rounding, from ${KERNEL_GENERATIONS.join(', ')}`, '6.12+'),
    list('space', 'hz', 'LIST', `tick rates, from ${HZ_VALUES.join(', ')}`, '250,1000'),
    list('space', 'image-size', 'MIN[-MAX]', 'synthetic image size range', '8K-64K'),
    list('space', 'cpu-fault-rate', 'R', 'share of runs with one CPU fault', '0.1'),
    list('space', 'offline-rate', 'R', 'share of runs with one CPU offline', '0.05'),
    list('space', 'slow-apply-rate', 'R', 'share of runs whose unstaged WRMSR 0x79 takes 1.2 s', '0.02'),
    output(
      'failing',
      "the failing runs: seed, violations and the exact 'ucode-staging simulate' command that replays each (machine files are written beside FILE)",
    ),
    json('campaign@2', 'the whole report (with --shard: the part, schema campaign-part@1)'),
  ],
  exit: [
    ['0', 'no invariant violated'],
    ['1', 'an invariant was violated'],
    ['2', 'bad usage'],
  ],
  examples: [
    'ucode-staging campaign --runs 100000 --seed 1 --failing failing.txt',
    'ucode-staging campaign --runs 100000000 --shard 3/64 --json part-3.json',
  ],
};

export const CAMPAIGN_MERGE: CommandSpec = {
  name: 'campaign merge',
  summary: 'join the parts of a sharded campaign into its report',
  usage: 'PART.json... [--json FILE] [--failing FILE]',
  description:
    "Join the parts that 'campaign --shard K/N --json PART.json' wrote into the report of the whole campaign: the same table, tally, failing runs and JSON as one unsharded run (only the wall time differs). The parts must cover every run exactly once.",
  options: [
    output('failing', 'the failing runs and their replay commands, as for campaign'),
    json('campaign@2', 'the whole report'),
  ],
  operands: { name: 'PART.json...', path: true, required: true },
  exit: [
    ['0', 'no invariant violated'],
    ['1', 'an invariant was violated'],
    ['2', 'bad usage, or parts that do not make one campaign'],
  ],
};

export const PROBE: CommandSpec = {
  name: 'probe',
  summary: 'what a late load would do on this host (read-only): verdict, staging, predicted stop',
  usage: '[options]',
  description: `What a late load (echo 1 > /sys/devices/system/cpu/microcode/reload) would do on this host, before anyone runs it: the host, the update the kernel would pick, the verdict in the kernel's terms, staging, and the model's prediction of how long the CPUs would stand still. Read-only: no MSR is written, no load is triggered.

It reads /proc/cpuinfo, /proc/cmdline, the kernel release and config, the CPU folders under /sys/devices/system/cpu, /dev/cpu/N/msr when readable (root and 'modprobe msr'; otherwise staging is reported unknown) and the firmware file.`,
  options: [
    {
      name: 'root',
      type: 'string',
      arg: 'DIR',
      group: 'options',
      help: 'read every host path under DIR (a tree saved with --save)',
      default: '/',
      path: true,
    },
    {
      name: 'firmware',
      type: 'string',
      arg: 'DIR',
      group: 'options',
      help: 'the intel-ucode folder to use',
      default: 'where the kernel looks',
      path: true,
    },
    {
      name: 'save',
      type: 'string',
      arg: 'DIR',
      group: 'options',
      help: 'copy exactly the files read into DIR (empty or new), for a bug report or a replay with --root',
      path: true,
    },
    {
      name: 'json',
      type: 'boolean',
      group: 'options',
      help: 'print the report as JSON (schema ucode-staging/probe@1)',
    },
    {
      name: 'machine-out',
      type: 'string',
      arg: 'FILE',
      group: 'options',
      help: 'write the derived machine file (loadable by simulate -m FILE)',
      path: true,
    },
    {
      name: 'cost',
      type: 'string',
      multiple: true,
      arg: 'KEY=VALUE',
      group: 'options',
      help: 'override a cost-model parameter of the prediction (ns); repeatable',
    },
    {
      name: 'hz',
      type: 'string',
      arg: HZ_VALUES.join('|'),
      group: 'options',
      help: 'the kernel tick rate, when the kernel config cannot be read',
      choices: HZ_VALUES.map(String),
    },
  ],
  exit: [
    ['0', 'a late load would update this host safely'],
    ['1', 'it would not (any other verdict)'],
    ['2', 'the probe could not run (bad usage, unreadable root)'],
  ],
};

export const FLEET: CommandSpec = {
  name: 'fleet',
  summary: 'plan a late load across many hosts: verdicts, pauses, hosts at risk, rollout waves',
  usage: '<input>... [options]',
  description: `Plan a late load across a fleet from many 'probe --json' outputs (files, folders or globs; Ansible --tree results and pssh -o outputs are read as they are), saved probe trees ('probe --save' folders) and inventories (.csv, .yaml: host or count, machine, kernel, hz, firmware, revision, force-minrev, late-loading). Prints the hosts by verdict, the staging-capable share, the stop window (min, median, p99, max) with and without staging, the total staging time, the hosts at risk (a staging failure whose unstaged fallback panics; a pause over the budget) and a rollout in waves, safest first. Hosts of the same shape are simulated once.

A bad input (a file, a row) is reported with its file and line and skipped; --strict makes it fatal. See docs/fleet.md.

${OUTPUT_NOTE}`,
  options: [
    {
      name: 'pause-budget',
      type: 'string',
      arg: 'DURATION',
      group: 'plan',
      help: 'the longest acceptable stop window (e.g. 10s, 250ms); hosts over it are held back. 10 s: Azure documents most VM-pausing maintenance as under 10 seconds, a common planning figure',
      default: '10s',
    },
    {
      name: 'wave',
      type: 'string',
      arg: 'N|P%',
      group: 'plan',
      help: 'at most N hosts, or P percent of the planned hosts, per wave',
      default: '10%',
    },
    {
      name: 'wave-gap',
      type: 'string',
      arg: 'DURATION',
      group: 'plan',
      help: "time between waves (checks, soak), added to the rollout's wall time",
      default: '0s',
    },
    {
      name: 'include-unsafe',
      type: 'boolean',
      group: 'plan',
      help: 'put hosts whose load would taint the kernel in the rollout (after the others)',
    },
    {
      name: 'firmware',
      type: 'string',
      arg: 'DIR',
      group: 'input',
      help: 'the intel-ucode folder for saved probe trees (as probe --firmware) and for inventory rows without a firmware column',
      path: true,
    },
    {
      name: 'cost',
      type: 'string',
      multiple: true,
      arg: 'KEY=VALUE',
      group: 'input',
      help: 'override a cost-model parameter (ns) of every model run (trees and inventory rows; a probe report keeps its own figures); repeatable',
    },
    {
      name: 'strict',
      type: 'boolean',
      group: 'input',
      help: 'stop at the first bad input (exit 2) instead of skipping it',
    },
    {
      name: 'jobs',
      type: 'string',
      arg: 'N',
      group: 'input',
      help: 'worker threads for the model runs (1: in this thread)',
      default: 'the number of CPUs from 4 CPUs up, else 1',
    },
    json('fleet@1', 'the plan: totals, distributions, risks, waves and every shape'),
    output('csv', 'one row per host: its shape, verdict, figures, risks and wave'),
    output('report', 'a self-contained HTML report with the stop-window distribution and the hosts at risk'),
  ],
  operands: { name: '<input>...', path: true, required: true },
  exit: [
    ['0', 'every host would load safely, none is at risk and no input was skipped'],
    ['1', 'some host would not load safely or is at risk, or an input was skipped'],
    ['2', 'bad usage, nothing to plan, or (with --strict) a bad input'],
  ],
  examples: [
    'ucode-staging fleet probes/ --pause-budget 2s --wave 5% --report fleet.html',
    "ucode-staging fleet 'probes/*.json' trees/ --json fleet.json --csv hosts.csv",
    'ucode-staging fleet inventory.csv --wave 200 --wave-gap 10m',
  ],
};

export const PLAYGROUND: CommandSpec = {
  name: 'playground',
  summary: 'the browser playground: every control of a run on one page, served locally',
  usage: '[--port N] [--open] [--link] [run options]',
  description: `Serve the browser playground on http://127.0.0.1 (this computer only): pick a machine, an image (synthetic, or drop a real microcode file), policies, mailbox and CPU faults and a seed, and see the kernel log, the summary, the timeline, the staging passes and staging off vs on, rerun on every change. The simulator runs in the page's Web Worker; the page makes no network request. The page's link holds the run as this command's flags, and it gives the equivalent 'ucode-staging simulate' command.

With run options (as for simulate), the link printed opens the playground on that run; --link prints it without serving. A machine file goes into the link whole; a firmware file does not (drop it on the page). The same page is in dist/playground/ for any static web server.`,
  options: [
    {
      name: 'port',
      type: 'string',
      arg: 'N',
      group: 'server',
      help: 'the port on 127.0.0.1; 0 picks a free one',
      default: '8470',
    },
    { name: 'open', type: 'boolean', group: 'server', help: 'open the page in the default browser' },
    {
      name: 'link',
      type: 'boolean',
      group: 'server',
      help: "print the playground's link for the run the options describe, and exit",
    },
    ...RUN_OPTIONS,
  ],
  exit: [
    ['0', 'the link was printed (--link)'],
    ['2', 'bad usage, or the port is in use'],
    ['130', 'stopped by Ctrl-C (SIGINT; SIGTERM: 143)'],
  ],
  examples: ['ucode-staging playground --open', 'ucode-staging playground --fault never-ready@0 --link'],
};

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  SIMULATE,
  COMPARE,
  CAMPAIGN,
  CAMPAIGN_MERGE,
  INSPECT,
  PROBE,
  FLEET,
  PLAYGROUND,
];
