import { availableParallelism } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import {
  ALL_FAULT_CHOICES,
  BUDGETS,
  CampaignMergeError,
  type CampaignPart,
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
  joinCampaignParts,
  KERNEL_GENERATIONS,
  type MachineChoice,
  mergeCampaignParts,
  oneOf,
  POLLS,
  type ProfileChoice,
  parseProfile,
  parseSize,
  parseWholeNumber,
  presetNames,
  quoted,
  replayMachineFile,
  runCampaignSlice,
  type SimulateFn,
  SimulationInputError,
  STAGING_MODES,
  toJson,
} from '../index.js';
import { runOnWorkers, workersAvailable } from './campaign-pool.js';
import { paint } from './color.js';
import { CAMPAIGN, CAMPAIGN_MERGE } from './commands.js';
import { type CliIo, type Command, printable, UsageError } from './io.js';
import { type OutputPlan, planOutputs } from './output-plan.js';
import { Progress } from './progress.js';
import { readInputText } from './read-input.js';
import { asUsage } from './sim-options.js';
import { helpText, parseCommand } from './spec.js';

type Values = {
  [name: string]: string | undefined;
} & { help?: boolean };

/** The command, with the simulator injectable (tests break it on purpose to see exit 1). */
export function makeCampaignCommand(deps: { simulate?: SimulateFn } = {}): Command {
  return (argv, io) => campaign(argv, io, deps);
}

export const campaignCommand: Command = makeCampaignCommand();

/** A shard's part file may be large (a histogram per row, up to 1000 failing runs). */
const PART_FILE_MAX_BYTES = 256 << 20;

async function merge(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(CAMPAIGN_MERGE, argv);
  const values = parsed.values as { json?: string; failing?: string; help?: boolean };
  const positionals = parsed.positionals;
  if (values.help) {
    io.stdout(helpText(CAMPAIGN_MERGE));
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('campaign merge needs the part files (PART.json...)');
  const plan = planOutputs(
    [
      { flag: '--failing', path: values.failing },
      { flag: '--json', path: values.json },
    ],
    positionals.map((path) => ({ what: 'part file', path })),
    io,
  );
  const parts = positionals.map((path) => {
    const text = readInputText(path, { what: 'part file', maxBytes: PART_FILE_MAX_BYTES });
    let part: unknown;
    try {
      part = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`part file '${printable(path)}' is not valid JSON: ${(err as Error).message}`);
    }
    if ((part as { schema?: unknown } | null)?.schema !== 'ucode-staging/campaign-part@1')
      throw new UsageError(
        `'${printable(path)}' is not a campaign part (schema ucode-staging/campaign-part@1)`,
      );
    return part as CampaignPart;
  });
  let report: CampaignReport;
  try {
    report = mergeCampaignParts(parts);
  } catch (err) {
    if (err instanceof CampaignMergeError) throw new UsageError(`cannot merge: ${err.message}`);
    throw err;
  }
  const command = formatCommandLine(['campaign', 'merge', ...argv]);
  return finishReport(io, plan, report, parts[0]!.space, command, values.failing);
}

async function campaign(argv: string[], io: CliIo, deps: { simulate?: SimulateFn }): Promise<number> {
  if (argv[0] === 'merge') return merge(argv.slice(1), io);
  const v = parseOptions(argv);
  if (v.help) {
    io.stdout(helpText(CAMPAIGN));
    return 0;
  }
  const { runs, seed, checkEvery, space, jobs, shard } = asUsage(() => {
    const runs = v.runs === undefined ? 1000 : parseWholeNumber('--runs', v.runs, 1, 100_000_000);
    return {
      runs,
      seed: v.seed === undefined ? 1 : parseWholeNumber('--seed', v.seed, 0, 0xffff_ffff),
      checkEvery:
        v['check-every'] === undefined
          ? 50
          : parseWholeNumber('--check-every', v['check-every'], 0, 100_000_000),
      space: parseSpace(v),
      jobs: v.jobs === undefined ? availableParallelism() : parseWholeNumber('--jobs', v.jobs, 1, 1024),
      shard: v.shard === undefined ? undefined : parseShard(v.shard, runs),
    };
  });
  if (shard && v.failing !== undefined)
    throw new UsageError("--failing goes with 'campaign merge', which sees every shard's failing runs");
  if (shard && v.json === undefined) throw new UsageError('--shard needs --json FILE for its part');
  // Fail on an output path before hours of runs, not after.
  const plan = planOutputs(
    [
      { flag: '--failing', path: v.failing },
      { flag: '--json', path: v.json },
    ],
    [],
    io,
  );

  const options = { space, runs, seed, determinismEvery: checkEvery, maxFailures: 1000 };
  const [start, end] = shard ?? [0, runs];
  const progress = new Progress(io, end - start, 'campaign');
  const began = performance.now();
  let parts: CampaignPart[];
  if (deps.simulate || jobs === 1 || end - start < 40 || !workersAvailable()) {
    // In process: an injected simulator cannot cross into a worker thread.
    parts = [
      runCampaignSlice(
        {
          ...options,
          clock: () => performance.now(),
          ...(deps.simulate ? { simulate: deps.simulate } : {}),
          onProgress: (_done, _total, failing) => progress.tick(failing ? `${failing} failing` : ''),
        },
        start,
        end,
      ),
    ];
  } else {
    // A shard too is cut into slices for the workers, then joined into one part.
    parts = await runOnWorkers(options, start, end, jobs, (n) => progress.advance(n));
  }
  progress.finish();
  const wallMs = performance.now() - began;

  if (shard) {
    const part = { ...joinCampaignParts(parts), wallMs };
    await plan.write('--json', () => `${toJson(part)}\n`);
    if (!plan.toStdout('--json'))
      io.stdout(
        `ucode-staging campaign: shard ${v.shard}: runs ${start}..${end - 1} of ${runs}, ` +
          `${part.failingCount} violated an invariant, ${(wallMs / 1000).toFixed(1)} s\n` +
          "join the shards' parts with: ucode-staging campaign merge PART.json...\n",
      );
    for (const o of plan.outputs) if (o.kind !== 'stdout') io.stderr(`wrote ${printable(o.path)}\n`);
    return part.failingCount > 0 ? 1 : 0;
  }
  const report = { ...mergeCampaignParts(parts), wallMs };
  return finishReport(io, plan, report, space, formatCommandLine(['campaign', ...argv]), v.failing);
}

/** The report's text, JSON and failing-runs file: the same for a run and for merged shards. */
async function finishReport(
  io: CliIo,
  plan: OutputPlan,
  report: CampaignReport,
  space: CampaignSpace,
  command: string,
  failingPath: string | undefined,
): Promise<number> {
  const machineFiles =
    failingPath !== undefined ? await writeFailing(plan, failingPath, report, command) : undefined;
  if (plan.has('--json'))
    await plan.write('--json', () => `${campaignJson(report, space, command, machineFiles)}\n`);
  if (!plan.toStdout('--json'))
    io.stdout(paint(formatCampaignReport(report, command, machineFiles, failingPath), io.color));
  for (const o of plan.outputs) if (o.kind !== 'stdout') io.stderr(`wrote ${printable(o.path)}\n`);
  return report.failingCount > 0 ? 1 : 0;
}

/** Slice K of N of the runs: [floor(runs*K/N), floor(runs*(K+1)/N)). */
function parseShard(text: string, runs: number): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new SimulationInputError(`--shard expects K/N like 3/64 (K from 0), got ${quoted(text)}`);
  const n = parseWholeNumber('--shard N', m[2]!, 1, 1_000_000);
  const k = parseWholeNumber('--shard K', m[1]!, 0, n - 1);
  return [Math.floor((runs * k) / n), Math.floor((runs * (k + 1)) / n)];
}

function parseOptions(argv: string[]): Values {
  return parseCommand(CAMPAIGN, argv).values as Values;
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
  await plan.write('--failing', () => failingRunsText(report, command, files));
  return files;
}
