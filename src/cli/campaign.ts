import { closeSync, existsSync, openSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Violation } from '../campaign/invariants.js';
import {
  type CampaignReport,
  type FailingRun,
  formatCampaignTable,
  formatInvariantTally,
  runCampaign,
  type SimulateFn,
} from '../campaign/run-campaign.js';
import {
  ALL_FAULT_CHOICES,
  type CampaignSpace,
  DEFAULT_SPACE,
  type FaultChoice,
  type FaultPlacement,
  HZ_VALUES,
  type Hz,
  type MachineChoice,
  type ProfileChoice,
  profileArg,
  replayArgs,
  replayMachineFile,
  STAGING_POLICIES,
  type StagingPolicy,
} from '../campaign/space.js';
import { type DeviceProfile, DeviceProfileSchema } from '../platform/mailbox/config.js';
import { PRESETS } from '../platform/presets.js';
import { writeFileAtomic } from './atomic-write.js';
import { type CliIo, type Command, UsageError } from './io.js';
import { Progress } from './progress.js';
import { parseIntOption, parseProfile, parseSize } from './sim-options.js';
import { parseArgsOrUsage, resultJson } from './simulate.js';

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
      --machines LIST       presets (${Object.keys(PRESETS).join(', ')}) and/or 'random' (default random)
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
  const runs = v.runs === undefined ? 1000 : parseIntOption('--runs', v.runs, 1, 100_000_000);
  const seed = v.seed === undefined ? 1 : parseIntOption('--seed', v.seed, 0, 0xffff_ffff);
  const checkEvery =
    v['check-every'] === undefined ? 50 : parseIntOption('--check-every', v['check-every'], 0, 100_000_000);
  const space = parseSpace(v);
  // Fail on an output path before hours of runs, not after.
  if (v.failing !== undefined) checkOutputPath('--failing', v.failing);
  if (v.json !== undefined && v.json !== '-') checkOutputPath('--json', v.json);

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

  const commandLine = ['ucode-staging', 'campaign', ...argv].map(shellQuote).join(' ');
  const machineFiles = v.failing !== undefined ? writeFailing(v.failing, report, commandLine) : undefined;
  const replay = (f: FailingRun): string[] | undefined => {
    const file = machineFiles?.get(f.index);
    return replayMachineFile(f.run) !== undefined && file === undefined
      ? undefined
      : ['ucode-staging', ...replayArgs(f.run, file)];
  };
  if (v.json !== undefined) {
    const json = `${resultJson(campaignJson(report, space, commandLine, replay))}\n`;
    if (v.json === '-') io.stdout(json);
    else writeFileAtomic(v.json, json);
  }
  if (v.json !== '-') io.stdout(formatReport(report, commandLine, replay, v.failing));
  if (v.failing !== undefined) io.stderr(`wrote ${v.failing}\n`);
  if (v.json !== undefined && v.json !== '-') io.stderr(`wrote ${v.json}\n`);
  return report.failingCount > 0 ? 1 : 0;
}

function parseOptions(argv: string[]): Values {
  try {
    return parseArgsOrUsage(argv, OPTIONS).values as Values;
  } catch (err) {
    // parseArgs sometimes explains itself on a second line; a usage error is one line.
    if (err instanceof UsageError) throw new UsageError(err.message.split('\n')[0]!);
    throw err;
  }
}

// ---- the space from the options ----

function parseSpace(v: Values): CampaignSpace {
  const space: CampaignSpace = { ...DEFAULT_SPACE, random: { ...DEFAULT_SPACE.random } };
  if (v.machines !== undefined) space.machines = list('--machines', v.machines).map(parseMachineChoice);
  if (v['max-packages'] !== undefined)
    space.random.maxPackages = parseIntOption('--max-packages', v['max-packages'], 1, 64);
  if (v['max-cores'] !== undefined)
    space.random.maxCores = parseIntOption('--max-cores', v['max-cores'], 1, 1024);
  if (v.threads !== undefined) {
    space.random.threads = list('--threads', v.threads)
      .map((t) => oneOf('--threads', t, ['1', '2', '4']))
      .map(Number) as (1 | 2 | 4)[];
  }
  if (v.faults !== undefined) space.faults = parseFaults(v.faults);
  if (v.placements !== undefined) {
    space.placements = list('--placements', v.placements).map((p) =>
      oneOf('--placements', p, ['at', 'probability'] as const),
    ) as FaultPlacement[];
  }
  if (v.probabilities !== undefined)
    space.probabilities = list('--probabilities', v.probabilities).map((p) =>
      parseRate('--probabilities', p),
    );
  if (v.profiles !== undefined) space.profiles = parseProfiles(v.profiles);
  if (v.policies !== undefined) {
    space.policies = list('--policies', v.policies).map((p) =>
      oneOf('--policies', p, STAGING_POLICIES),
    ) as StagingPolicy[];
  }
  if (v.budgets !== undefined)
    space.budgets = list('--budgets', v.budgets).map((b) =>
      oneOf('--budgets', b, ['2x', 'per-chunk'] as const),
    );
  if (v.dedupes !== undefined) {
    space.dedupes = list('--dedupes', v.dedupes).map((d) =>
      oneOf('--dedupes', d, ['previous-package', 'distinct'] as const),
    );
  }
  if (v.polls !== undefined)
    space.polls = list('--polls', v.polls).map((p) => oneOf('--polls', p, ['msleep', 'fine'] as const));
  if (v.kernels !== undefined)
    space.kernels = list('--kernels', v.kernels).map((k) =>
      oneOf('--kernels', k, ['6.12+', 'pre-6.12'] as const),
    );
  if (v.hz !== undefined) {
    space.hz = list('--hz', v.hz).map((h) => Number(oneOf('--hz', h, HZ_VALUES.map(String)))) as Hz[];
  }
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
    throw new UsageError(`${flag} expects a ${sep === ',' ? 'comma' : "';'"}-separated list, got '${text}'`);
  return items;
}

function oneOf<const T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${flag}: '${value}' is not one of ${allowed.join(', ')}`);
  return value as T;
}

function parseMachineChoice(name: string): MachineChoice {
  if (name === 'random') return { kind: 'random' };
  if (!PRESETS[name])
    throw new UsageError(
      `--machines: unknown machine '${name}' (known: random, ${Object.keys(PRESETS).join(', ')})`,
    );
  return { kind: 'preset', name };
}

function parseFaults(text: string): FaultChoice[] {
  if (text === 'all') return [...ALL_FAULT_CHOICES];
  if (text === 'none') return ['none'];
  return list('--faults', text).map((f) => oneOf('--faults', f, ALL_FAULT_CHOICES));
}

function parseProfiles(text: string): ProfileChoice[] {
  const exact = text.includes(';') || text.includes(':');
  return list('--profiles', text, exact ? ';' : ',').map((p): ProfileChoice => {
    if (p === 'ideal' || p === 'slow' || p === 'limited-cache') return { kind: 'family', family: p };
    if (!exact)
      throw new UsageError(
        `--profiles: unknown profile '${p}' (ideal, slow, limited-cache, or exact specs separated by ';')`,
      );
    let profile: DeviceProfile;
    try {
      profile = parseProfile(p);
      // A run's profile is replayed as `simulate --profile`: it must be valid and writable as one.
      const valid = DeviceProfileSchema.safeParse(profile);
      if (!valid.success) {
        const issue = valid.error.issues[0]!;
        throw new UsageError(`'${p}': ${issue.path.join('.')}: ${issue.message}`);
      }
      profileArg(profile);
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`--profiles: ${err.message}`);
      if (err instanceof RangeError) throw new UsageError(`--profiles: '${p}': ${err.message}`);
      throw err;
    }
    return { kind: 'exact', profile };
  });
}

function parseRate(flag: string, text: string): number {
  // Plain decimals only: a run's fault is replayed as --fault KIND%P, which takes no exponent.
  if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(text))
    throw new UsageError(`${flag} expects a number within 0..1 like 0.1, got '${text}'`);
  const rate = Number(text);
  if (!/^\d+(\.\d+)?$/.test(String(rate))) {
    throw new UsageError(`${flag}: ${text} is too small to replay as a plain decimal (use 0.000001 or more)`);
  }
  return rate;
}

function parseImageRange(text: string): { min: number; max: number } {
  const [lo, hi = lo] = text.split('-', 2) as [string, string?];
  const min = parseSize('--image-size', lo);
  const max = parseSize('--image-size', hi);
  if (min > max) throw new UsageError(`--image-size: the range ${text} is empty (minimum above maximum)`);
  if (Math.ceil(min / 4) > Math.floor(max / 4))
    throw new UsageError(`--image-size: the range ${text} holds no multiple of 4`);
  return { min, max };
}

/** Fail on an unusable output path before the runs, with writeFileAtomic's own messages. */
function checkOutputPath(flag: string, path: string): void {
  const target = resolve(path);
  const dir = dirname(target);
  const fail = (why: string): never => {
    throw new UsageError(`${flag}: cannot write '${path}': ${why}`);
  };
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(`folder '${dir}' does not exist`);
  if (existsSync(target) && statSync(target).isDirectory()) fail('it is a folder');
  const probe = join(dir, `.${basename(target)}.${process.pid}.probe`);
  try {
    closeSync(openSync(probe, 'wx'));
    rmSync(probe, { force: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    fail(
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'read-only file system'
          : String(code ?? err),
    );
  }
}

// ---- failing runs ----

/** Machine file of a failing run, beside the failing file: failing.run-17.machine.json. */
function machineFilePath(failingPath: string, index: number): string {
  const ext = extname(failingPath);
  const stem = basename(failingPath, ext);
  return join(dirname(failingPath), `${stem}.run-${index}.machine.json`);
}

/** Write the machine files, then the list; returns each run's machine file. */
function writeFailing(path: string, report: CampaignReport, commandLine: string): Map<number, string> {
  const files = new Map<number, string>();
  for (const f of report.failing) {
    const machine = replayMachineFile(f.run);
    if (machine === undefined) continue;
    const file = machineFilePath(path, f.index);
    writeFileAtomic(file, `${JSON.stringify(machine, null, 2)}\n`);
    files.set(f.index, file);
  }
  const lines = [
    `# ${commandLine}`,
    `# ${report.failingCount} of ${report.runs} runs violated an invariant${report.failing.length < report.failingCount ? ` (the first ${report.failing.length} are listed)` : ''}.`,
    '# Each command below replays its run exactly (the campaign runs with the trace off).',
    '',
  ];
  for (const f of report.failing) {
    lines.push(`# run ${f.index}: seed ${f.seed}, fault ${f.fault}, policy ${f.policy}`);
    for (const viol of f.violations) lines.push(`#   ${viol.invariant}: ${viol.message}`);
    lines.push(['ucode-staging', ...replayArgs(f.run, files.get(f.index))].map(shellQuote).join(' '), '');
  }
  writeFileAtomic(path, `${lines.join('\n')}\n`);
  return files;
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,%@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

// ---- output ----

function formatReport(
  report: CampaignReport,
  commandLine: string,
  replay: (f: FailingRun) => string[] | undefined,
  failingPath: string | undefined,
): string {
  const seconds = report.wallMs / 1000;
  const out = [
    `${commandLine}`,
    '',
    formatCampaignTable(report),
    'stop window: first CPU stopped to last released (ms), over runs that stopped CPUs and came back',
    '',
    'invariants:',
    formatInvariantTally(report),
    `${report.runs} runs in ${seconds.toFixed(1)} s (${Math.round(report.runs / Math.max(seconds, 1e-9))} runs/s); ` +
      `${report.faultsInjected} mailbox faults injected, ${report.faultsFired} fired; ` +
      `${report.determinismChecks} runs run twice`,
  ];
  if (report.failingCount === 0) out.push('no invariant violated');
  else {
    out.push(`${report.failingCount} runs violated an invariant:`);
    for (const f of report.failing.slice(0, 10)) {
      out.push(
        `  run ${f.index} (seed ${f.seed}, ${f.fault}, ${f.policy}): ${f.violations.map(describe).join('; ')}`,
      );
      const cmd = replay(f);
      out.push(
        cmd ? `    ${cmd.map(shellQuote).join(' ')}` : '    (needs a machine file: give --failing FILE)',
      );
    }
    if (report.failingCount > 10)
      out.push(`  ... ${report.failingCount - 10} more${failingPath ? ` in ${failingPath}` : ''}`);
  }
  return `${out.join('\n')}\n`;
}

function describe(v: Violation): string {
  return `${v.invariant}: ${v.message}`;
}

function campaignJson(
  report: CampaignReport,
  space: CampaignSpace,
  commandLine: string,
  replay: (f: FailingRun) => string[] | undefined,
): object {
  return {
    ...report,
    command: commandLine,
    space,
    failing: report.failing.map((f) => ({
      index: f.index,
      seed: f.seed,
      fault: f.fault,
      policy: f.policy,
      violations: f.violations,
      replay: replay(f) ?? null,
      machineFile: replayMachineFile(f.run) ?? null,
    })),
  };
}
