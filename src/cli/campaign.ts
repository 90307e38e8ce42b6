import { basename, dirname, extname, join } from 'node:path';
import {
  ALL_FAULT_CHOICES,
  BUDGETS,
  type CampaignReport,
  type CampaignSpace,
  campaignJson,
  DEDUPES,
  DEFAULT_SPACE,
  type DeviceProfile,
  type FaultChoice,
  type FaultPlacement,
  failingRunsText,
  findPreset,
  formatCampaignReport,
  commandLine as formatCommandLine,
  formatProfile,
  HZ_VALUES,
  KERNEL_GENERATIONS,
  type MachineChoice,
  oneOf,
  POLLS,
  type ProfileChoice,
  parseProfile,
  parseSize,
  parseWholeNumber,
  presetNames,
  quoted,
  replayMachineFile,
  runCampaign,
  type SimulateFn,
  SimulationInputError,
  STAGING_MODES,
} from '../index.js';
import { type CliIo, type Command, printable } from './io.js';
import { type OutputPlan, planOutputs } from './output-plan.js';
import { Progress } from './progress.js';
import { asUsage } from './sim-options.js';
import { parseArgsOrUsage } from './simulate.js';

const HELP = `usage: ucode-staging campaign [--runs N] [--seed S] [space options] [output options]

Run N seeded simulations over a space of machines, mailbox profiles, faults,
policies and HZ, and check invariants on every run: every run ends; a completed
staging left a byte-identical copy; every core ends at the new or the old
revision, and a mix is reported; a staging failure's errno and log line match
the fault; the policy was obeyed; the host never misuses the mailbox; the same
seed gives the same result. Prints a table by fault kind and policy. Any failing
run can be replayed exactly with 'ucode-staging simulate' (see --failing).

run:
      --runs N              number of runs (default 1000)
      --seed S              campaign seed, 0..4294967295 (default 1); run i has its own seed from S and i
      --check-every N       run every N-th run twice and compare the results (default 50; 0: never)
space (lists are comma-separated; each run draws one value of each):
      --machines LIST       presets (${presetNames().join(', ')}) and/or 'random' (default random)
      --max-packages N      random machines: 1..N packages (default 2)
      --max-cores N         random machines: 1..N cores per package (default 8)
      --threads LIST        random machines: threads per core, from 1,2,4 (default 1,2)
      --faults LIST|all|none  mailbox faults, from:
${wrap(ALL_FAULT_CHOICES.filter((f) => f !== 'none').join(', '), 28, 104)}
                            'none' in a list means runs without a fault; 'all' is every kind and none (default)
      --placements LIST     where a device fault fires: at (a transaction index), probability (default both)
      --probabilities LIST  per-transaction fault probabilities (default 0.02,0.1,0.5)
      --profiles LIST       mailbox profiles: ideal, slow, limited-cache (random parameters), or exact
                            specs as for simulate --profile separated by ';' (default ideal,slow,limited-cache)
      --policies LIST       auto, off, require (default all three)
      --budgets LIST        re-send budget: 2x, per-chunk (default 2x, the kernel's)
      --dedupes LIST        package dedupe: previous-package, distinct (default previous-package)
      --polls LIST          STATUS poll: msleep, fine (default msleep)
      --kernels LIST        msleep rounding: 6.12+, pre-6.12 (default 6.12+)
      --hz LIST             100, 250, 300, 1000 (default 250,1000)
      --image-size MIN[-MAX]  synthetic image size range, e.g. 8K-64K (the default)
      --cpu-fault-rate R    share of runs with one CPU fault (default 0.1)
      --offline-rate R      share of runs with one CPU offline (default 0.05)
      --slow-apply-rate R   share of runs whose unstaged WRMSR 0x79 takes 1.2 s (default 0.02)
output:
      --failing FILE        the failing runs: seed, violations and the exact 'ucode-staging simulate'
                            command that replays each (machine files are written beside FILE)
      --json FILE           the whole report as JSON (schema ucode-staging/campaign@1; '-' for stdout)
  -h, --help

exit status: 0 no invariant violated, 1 an invariant was violated, 2 bad usage.
`;

/** `text` wrapped at `width` columns, every line indented by `indent` spaces. */
function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${' '.repeat(indent)}${l}`).join('\n');
}

const OPTIONS = {
  runs: { type: 'string' },
  seed: { type: 'string' },
  'check-every': { type: 'string' },
  machines: { type: 'string' },
  'max-packages': { type: 'string' },
  'max-cores': { type: 'string' },
  threads: { type: 'string' },
  faults: { type: 'string' },
  placements: { type: 'string' },
  probabilities: { type: 'string' },
  profiles: { type: 'string' },
  policies: { type: 'string' },
  budgets: { type: 'string' },
  dedupes: { type: 'string' },
  polls: { type: 'string' },
  kernels: { type: 'string' },
  hz: { type: 'string' },
  'image-size': { type: 'string' },
  'cpu-fault-rate': { type: 'string' },
  'offline-rate': { type: 'string' },
  'slow-apply-rate': { type: 'string' },
  failing: { type: 'string' },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

/** The command, with the simulator injectable (tests break it on purpose to see exit 1). */
export function makeCampaignCommand(deps: { simulate?: SimulateFn } = {}): Command {
  return (argv, io) => campaign(argv, io, deps);
}

export const campaignCommand: Command = makeCampaignCommand();

async function campaign(argv: string[], io: CliIo, deps: { simulate?: SimulateFn }): Promise<number> {
  const v = parseOptions(argv);
  if (v.help) {
    io.stdout(HELP);
    return 0;
  }
  const { runs, seed, checkEvery, space } = asUsage(() => ({
    runs: v.runs === undefined ? 1000 : parseWholeNumber('--runs', v.runs, 1, 100_000_000),
    seed: v.seed === undefined ? 1 : parseWholeNumber('--seed', v.seed, 0, 0xffff_ffff),
    checkEvery:
      v['check-every'] === undefined
        ? 50
        : parseWholeNumber('--check-every', v['check-every'], 0, 100_000_000),
    space: parseSpace(v),
  }));
  // Fail on an output path before hours of runs, not after.
  const plan = planOutputs(
    [
      { flag: '--failing', path: v.failing },
      { flag: '--json', path: v.json },
    ],
    [],
    io,
  );

  const progress = new Progress(io, runs, 'campaign');
  const report = runCampaign({
    space,
    runs,
    seed,
    determinismEvery: checkEvery,
    // The campaign core keeps no wall clock; the CLI measures how fast it ran.
    clock: () => performance.now(),
    ...(deps.simulate ? { simulate: deps.simulate } : {}),
    onProgress: (_done, _total, failing) => progress.tick(failing ? `${failing} failing` : ''),
  });
  progress.finish();

  const command = formatCommandLine(['campaign', ...argv]);
  const machineFiles =
    v.failing !== undefined ? await writeFailing(plan, v.failing, report, command) : undefined;
  if (plan.has('--json'))
    await plan.write('--json', `${campaignJson(report, space, command, machineFiles)}\n`);
  if (!plan.toStdout('--json')) io.stdout(formatCampaignReport(report, command, machineFiles, v.failing));
  for (const o of plan.outputs) if (o.kind !== 'stdout') io.stderr(`wrote ${printable(o.path)}\n`);
  return report.failingCount > 0 ? 1 : 0;
}

function parseOptions(argv: string[]): Values {
  return parseArgsOrUsage(argv, OPTIONS).values as Values;
}

// ---- the space from the options ----

function parseSpace(v: Values): CampaignSpace {
  const space: CampaignSpace = { ...DEFAULT_SPACE, random: { ...DEFAULT_SPACE.random } };
  const each = <T extends string | number>(flag: string, text: string, allowed: readonly T[]): T[] =>
    list(flag, text).map((x) => oneOf(flag, x, allowed));
  if (v.machines !== undefined) space.machines = list('--machines', v.machines).map(parseMachineChoice);
  if (v['max-packages'] !== undefined)
    space.random.maxPackages = parseWholeNumber('--max-packages', v['max-packages'], 1, 64);
  if (v['max-cores'] !== undefined)
    space.random.maxCores = parseWholeNumber('--max-cores', v['max-cores'], 1, 1024);
  if (v.threads !== undefined) space.random.threads = each('--threads', v.threads, [1, 2, 4] as const);
  if (v.faults !== undefined) space.faults = parseFaults(v.faults);
  if (v.placements !== undefined)
    space.placements = each<FaultPlacement>('--placements', v.placements, ['at', 'probability']);
  if (v.probabilities !== undefined)
    space.probabilities = list('--probabilities', v.probabilities).map((p) =>
      parseRate('--probabilities', p),
    );
  if (v.profiles !== undefined) space.profiles = parseProfiles(v.profiles);
  if (v.policies !== undefined) space.policies = each('--policies', v.policies, STAGING_MODES);
  if (v.budgets !== undefined) space.budgets = each('--budgets', v.budgets, BUDGETS);
  if (v.dedupes !== undefined) space.dedupes = each('--dedupes', v.dedupes, DEDUPES);
  if (v.polls !== undefined) space.polls = each('--polls', v.polls, POLLS);
  if (v.kernels !== undefined) space.kernels = each('--kernels', v.kernels, KERNEL_GENERATIONS);
  if (v.hz !== undefined) space.hz = each('--hz', v.hz, HZ_VALUES);
  if (v['image-size'] !== undefined) space.imageBytes = parseImageRange(v['image-size']);
  if (v['cpu-fault-rate'] !== undefined)
    space.cpuFaultRate = parseRate('--cpu-fault-rate', v['cpu-fault-rate']);
  if (v['offline-rate'] !== undefined) space.offlineRate = parseRate('--offline-rate', v['offline-rate']);
  if (v['slow-apply-rate'] !== undefined)
    space.slowApplyRate = parseRate('--slow-apply-rate', v['slow-apply-rate']);
  return space;
}

function list(flag: string, text: string, sep = ','): string[] {
  const items = text.split(sep).map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === ''))
    throw new SimulationInputError(
      `${flag} expects a ${sep === ',' ? 'comma' : "';'"}-separated list, got ${quoted(text)}`,
    );
  return items;
}

function parseMachineChoice(name: string): MachineChoice {
  if (name === 'random') return { kind: 'random' };
  if (!findPreset(name))
    throw new SimulationInputError(
      `--machines: unknown machine ${quoted(name)} (known: random, ${presetNames().join(', ')})`,
    );
  return { kind: 'preset', name };
}

function parseFaults(text: string): FaultChoice[] {
  if (text === 'all') return [...ALL_FAULT_CHOICES];
  if (text === 'none') return ['none'];
  return list('--faults', text).map((f) => oneOf('--faults', f, ALL_FAULT_CHOICES));
}

const PROFILE_FAMILIES = ['ideal', 'slow', 'limited-cache'] as const;

function parseProfiles(text: string): ProfileChoice[] {
  const exact = text.includes(';') || text.includes(':');
  return list('--profiles', text, exact ? ';' : ',').map((p): ProfileChoice => {
    if ((PROFILE_FAMILIES as readonly string[]).includes(p))
      return { kind: 'family', family: p as DeviceProfile['kind'] };
    if (!exact)
      throw new SimulationInputError(
        `--profiles: unknown profile ${quoted(p)} (${PROFILE_FAMILIES.join(', ')}, or exact specs separated by ';')`,
      );
    const profile = parseProfile(p, '--profiles');
    // A run's profile is replayed as `simulate --profile`: it must be writable as one.
    try {
      formatProfile(profile);
    } catch (err) {
      throw new SimulationInputError(`--profiles ${quoted(p)}: ${(err as Error).message}`);
    }
    return { kind: 'exact', profile };
  });
}

function parseRate(flag: string, text: string): number {
  // Plain decimals only: a run's fault is replayed as --fault KIND%P, which takes no exponent.
  if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(text))
    throw new SimulationInputError(`${flag} expects a number within 0..1 like 0.1, got ${quoted(text)}`);
  const rate = Number(text);
  if (!/^\d+(\.\d+)?$/.test(String(rate))) {
    throw new SimulationInputError(
      `${flag}: ${text} is too small to replay as a plain decimal (use 0.000001 or more)`,
    );
  }
  return rate;
}

function parseImageRange(text: string): { min: number; max: number } {
  const [lo, hi = lo] = text.split('-', 2) as [string, string?];
  const min = parseSize('--image-size', lo);
  const max = parseSize('--image-size', hi);
  if (min > max)
    throw new SimulationInputError(`--image-size: the range ${text} is empty (minimum above maximum)`);
  if (Math.ceil(min / 4) > Math.floor(max / 4))
    throw new SimulationInputError(`--image-size: the range ${text} holds no multiple of 4`);
  return { min, max };
}
// ---- failing runs ----

/** Machine file of a failing run, beside the failing file: failing.run-17.machine.json. */
function machineFilePath(failingPath: string, index: number): string {
  const ext = extname(failingPath);
  const stem = basename(failingPath, ext);
  return join(dirname(failingPath), `${stem}.run-${index}.machine.json`);
}

/** Write the machine files, then the list; returns each run's machine file. */
async function writeFailing(
  plan: OutputPlan,
  path: string,
  report: CampaignReport,
  command: string,
): Promise<Map<number, string>> {
  const files = new Map<number, string>();
  for (const f of report.failing) {
    const machine = replayMachineFile(f.run);
    if (machine === undefined) continue;
    const file = machineFilePath(path, f.index);
    await plan.writeExtra('--failing', file, `${JSON.stringify(machine, null, 2)}\n`);
    files.set(f.index, file);
  }
  await plan.write('--failing', failingRunsText(report, command, files));
  return files;
}
