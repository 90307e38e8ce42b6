import { PolicySchema } from '../kernel/policy.js';
import { CostModelOverridesSchema, type CpuFault, CpuFaultSchema } from '../platform/machine-spec.js';
import {
  type DeviceFault,
  DeviceFaultSchema,
  type DeviceProfile,
  DeviceProfileSchema,
  RESPOND_PARAMS,
} from '../platform/mailbox/config.js';
import type { z } from '../zod.js';
import { SimulationInputError } from './errors.js';
import type { MachineInput, PackageScoped } from './machine-input.js';
import type { RunOption } from './option-table.js';
import { quoted } from './printable.js';
import type { SimulateOptions } from './simulate.js';

// The text grammar of a run description: what `ucode-staging simulate` flags
// say, parsed into SimulateOptions and printed back. Every enum and range comes
// from the zod schemas, so the help text, the validation and the campaign's
// replay commands cannot drift apart. Pure: no Node API.

/** The values an enum-like schema (z.enum, a union of literals, possibly with a default) accepts. */
export function choicesOf(schema: z.ZodMiniType): readonly (string | number)[] {
  let s = schema as unknown as { def: Record<string, unknown> };
  while (s.def.type === 'default' || s.def.type === 'optional') s = s.def.innerType as typeof s;
  if (s.def.type === 'enum') return Object.values(s.def.entries as Record<string, string>);
  if (s.def.type === 'union') {
    return (s.def.options as { def: { values: (string | number)[] } }[]).flatMap((o) => o.def.values);
  }
  throw new TypeError(`not an enum-like schema: ${String(s.def.type)}`);
}

const policy = PolicySchema.shape;
export const STAGING_MODES = choicesOf(policy.staging) as readonly PolicyEnum<'staging'>[];
export const BUDGETS = choicesOf(policy.budget) as readonly PolicyEnum<'budget'>[];
export const DEDUPES = choicesOf(policy.dedupe) as readonly PolicyEnum<'dedupe'>[];
export const POLLS = choicesOf(policy.poll) as readonly PolicyEnum<'poll'>[];
export const POLL_WAITS = choicesOf(policy.pollWait) as readonly PolicyEnum<'pollWait'>[];
export const STAGE_ORDERS = choicesOf(policy.stageOrder) as readonly PolicyEnum<'stageOrder'>[];
export const TRANSACTION_LIMITS = choicesOf(
  policy.transactionLimit,
) as readonly PolicyEnum<'transactionLimit'>[];
export const OFFSET_CHECKS = choicesOf(policy.offsetCheck) as readonly PolicyEnum<'offsetCheck'>[];
export const HZ_VALUES = choicesOf(CostModelOverridesSchema.shape.hz) as readonly (100 | 250 | 300 | 1000)[];
export const KERNEL_GENERATIONS = choicesOf(CostModelOverridesSchema.shape.kernelGeneration) as readonly (
  | '6.12+'
  | 'pre-6.12'
)[];
export const DEVICE_PROFILE_KINDS = DeviceProfileSchema.def.options.map((o) => o.shape.kind.def.values[0]!);
export const DEVICE_FAULT_KINDS = choicesOf(DeviceFaultSchema.shape.kind) as readonly DeviceFault['kind'][];
export const CPU_FAULT_KINDS = choicesOf(CpuFaultSchema.shape.kind) as readonly CpuFault['kind'][];
export const COST_KEYS = Object.keys(CostModelOverridesSchema.shape);

type PolicyEnum<
  K extends
    | 'staging'
    | 'budget'
    | 'dedupe'
    | 'poll'
    | 'pollWait'
    | 'stageOrder'
    | 'transactionLimit'
    | 'offsetCheck',
> = z.output<typeof PolicySchema>[K];
export type Hz = (typeof HZ_VALUES)[number];
export type KernelGeneration = (typeof KERNEL_GENERATIONS)[number];

function bad(message: string): never {
  throw new SimulationInputError(message);
}

/** The first issue of a failed schema parse, as `field: message`. */
function firstIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') return `unknown parameter '${[...path, issue.keys[0]].join('.')}'`;
  return path.length ? `${path.join('.')}: ${issue.message}` : issue.message;
}

function checked<T>(schema: z.ZodMiniType<T>, value: unknown, flag: string, text: string): T {
  const r = schema.safeParse(value);
  if (!r.success) bad(`${flag} ${quoted(text)}: ${firstIssue(r.error)}`);
  return r.data;
}

export function oneOf<const T extends string | number>(flag: string, text: string, allowed: readonly T[]): T {
  const hit = allowed.find((a) => String(a) === text);
  if (hit === undefined) bad(`${flag} must be one of ${allowed.join(', ')}, got ${quoted(text)}`);
  return hit;
}

export function parseWholeNumber(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) bad(`${flag} expects a whole number, got ${quoted(text)}`);
  const v = Number(text);
  if (v < min || v > max) bad(`${flag} must be within ${min}..${max}, got ${v}`);
  return v;
}

/** A plain decimal number (no exponent, no sign): what every number in the grammar is written as. */
function parseDecimal(flag: string, text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text)) bad(`${flag} expects a plain non-negative number, got ${quoted(text)}`);
  return Number(text);
}

/** A number as plain decimal digits, the only form the grammar reads back. */
export function formatDecimal(x: number): string {
  const s = String(x);
  if (/^\d+(\.\d+)?$/.test(s)) return s;
  throw new RangeError(`${s} cannot be written as a plain decimal`);
}

export const MIN_IMAGE_BYTES = 52;
/** The longest --time-limit: about 31 years of virtual time. */
export const MAX_TIME_LIMIT_S = 1_000_000_000;
export const MAX_IMAGE_BYTES = 256 * 1024 * 1024;

/** A byte count like 1670144, 512K or 1.6M (binary K/M). */
export function parseSize(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KkMm]?)$/.exec(text);
  if (!m) bad(`${flag} expects a size like 1670144, 512K or 1.6M, got ${quoted(text)}`);
  const mult = m[2]!.toLowerCase() === 'k' ? 1024 : m[2]!.toLowerCase() === 'm' ? 1024 * 1024 : 1;
  const v = Math.round(Number(m[1]) * mult);
  if (v < MIN_IMAGE_BYTES || v > MAX_IMAGE_BYTES)
    bad(`${flag} must be within ${MIN_IMAGE_BYTES} bytes..256M, got ${text}`);
  return v;
}

/** `3,5-7` → [3, 5, 6, 7]. Ranges are checked against `cpus` before they are expanded. */
export function parseCpuList(flag: string, text: string, cpus = 65_536): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d{1,6})(?:-(\d{1,6}))?$/.exec(part.trim());
    if (!m) bad(`bad ${flag} ${quoted(text)}: expected a list like 3,5-7`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) bad(`bad ${flag} range ${quoted(part)}: it ends before it starts`);
    if (hi >= cpus) bad(`bad ${flag} range ${quoted(part)}: CPU ${hi} does not exist (${cpus} CPUs)`);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return [...new Set(out)];
}

/** [3, 5, 6, 7] → `3,5-7`. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** `[PKG=]REST`: the package a profile or fault is for (absent: every package). */
export function parsePackageScoped<T>(
  flag: string,
  text: string,
  parse: (rest: string) => T,
): PackageScoped<T> {
  const m = /^(\d+)=(.*)$/.exec(text);
  if (!m) return { value: parse(text) };
  if (m[2] === '') bad(`bad ${flag} ${quoted(text)}: nothing after '${m[1]}='`);
  return { pkg: parseWholeNumber(flag, m[1]!, 0, 63), value: parse(m[2]!) };
}

export function formatPackageScoped<T>(scoped: PackageScoped<T>, format: (v: T) => string): string {
  return `${scoped.pkg === undefined ? '' : `${scoped.pkg}=`}${format(scoped.value)}`;
}

/**
 * `KIND[:KEY=VALUE,...]`, e.g. `limited-cache:cacheChunks=64,verifyPass`. A bare
 * key means true. Kinds, keys, ranges and defaults are the profile schema's.
 */
export function parseProfile(text: string, flag = '--profile'): DeviceProfile {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const params = colon < 0 ? '' : text.slice(colon + 1);
  if (!(DEVICE_PROFILE_KINDS as readonly string[]).includes(kind))
    bad(`${flag}: unknown device profile ${quoted(kind)} (${DEVICE_PROFILE_KINDS.join(', ')})`);
  const value: Record<string, unknown> = Object.create(null);
  value.kind = kind;
  if (colon >= 0 && params === '')
    bad(`${flag} ${quoted(text)}: nothing after ':' (give KEY=VALUE,... or leave out the ':')`);
  if (params !== '') {
    for (const part of params.split(',')) {
      const eq = part.indexOf('=');
      const key = eq < 0 ? part : part.slice(0, eq);
      if (!/^[A-Za-z]+$/.test(key) || key === 'kind')
        bad(`${flag} ${quoted(text)}: bad parameter ${quoted(part)}`);
      if (Object.hasOwn(value, key)) bad(`${flag} ${quoted(text)}: ${key} is given twice`);
      const raw = eq < 0 ? 'true' : part.slice(eq + 1);
      value[key] =
        raw === 'true' ? true : raw === 'false' ? false : parseDecimal(`${flag} ${kind}: ${key}`, raw);
    }
  }
  return checked(DeviceProfileSchema, { ...value }, flag, text);
}

/** The profile with every parameter written out, in the schema's order. */
export function formatProfile(p: DeviceProfile): string {
  const parts: string[] = [];
  const shape = DeviceProfileSchema.def.options.find((o) => o.shape.kind.def.values[0] === p.kind)!.shape;
  for (const key of Object.keys(shape)) {
    const value = (p as Record<string, unknown>)[key];
    if (key === 'kind' || value === false || value === undefined) continue;
    parts.push(value === true ? key : `${key}=${formatDecimal(value as number)}`);
  }
  return parts.length ? `${p.kind}:${parts.join(',')}` : p.kind;
}

/** The `respond` parameters written in hex (bit patterns); the others are plain numbers. */
const HEX_PARAMS: ReadonlySet<string> = new Set(['status', 'headerLow', 'headerHigh', 'statusBits']);

/**
 * `KIND[@TRANSACTION|%PROBABILITY][:KEY=VALUE,...]`. Only `respond` takes
 * parameters: offset (a dword, or len/chunk with +N or -N), status, headerLow,
 * headerHigh, statusBits (decimal or 0x hex), readyNs, sticky (bare: true).
 */
export function parseFault(text: string, flag = '--fault'): DeviceFault {
  const m = /^([a-z-]+)(?:@(\d+)|%(\d+(?:\.\d+)?))?(?::(.+))?$/.exec(text);
  if (!m || !(DEVICE_FAULT_KINDS as readonly string[]).includes(m[1]!)) {
    bad(
      `bad ${flag} ${quoted(text)}: expected KIND[@TRANSACTION|%PROBABILITY][:KEY=VALUE,...], KIND one of ${DEVICE_FAULT_KINDS.join(', ')}`,
    );
  }
  const fault: Record<string, unknown> = Object.create(null);
  fault.kind = m[1];
  if (m[2] !== undefined) fault.atTransaction = Number(m[2]);
  if (m[3] !== undefined) fault.probability = Number(m[3]);
  for (const part of m[4] === undefined ? [] : m[4].split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (!(RESPOND_PARAMS as readonly string[]).includes(key))
      bad(`${flag} ${quoted(text)}: unknown parameter ${quoted(key)} (${RESPOND_PARAMS.join(', ')})`);
    if (Object.hasOwn(fault, key)) bad(`${flag} ${quoted(text)}: ${key} is given twice`);
    const raw = eq < 0 ? 'true' : part.slice(eq + 1);
    fault[key] = faultParam(flag, text, key, raw);
  }
  return checked(DeviceFaultSchema, { ...fault }, flag, text);
}

function faultParam(flag: string, text: string, key: string, raw: string): unknown {
  if (key === 'sticky') {
    if (raw !== 'true' && raw !== 'false') bad(`${flag} ${quoted(text)}: sticky is true or false`);
    return raw === 'true';
  }
  if (key === 'offset' && /^(len|chunk)([+-]\d+)?$/.test(raw)) return raw;
  if (/^0x[0-9a-fA-F]{1,8}$/.test(raw) && key !== 'readyNs') return Number.parseInt(raw.slice(2), 16);
  return parseDecimal(`${flag} ${key}`, raw);
}

export function formatFault(f: DeviceFault): string {
  const where =
    f.atTransaction !== undefined
      ? `@${f.atTransaction}`
      : f.probability !== undefined
        ? `%${formatDecimal(f.probability)}`
        : '';
  const params: string[] = [];
  for (const key of RESPOND_PARAMS) {
    const value = f[key];
    if (value === undefined) continue;
    if (typeof value === 'boolean') params.push(value ? key : `${key}=false`);
    else if (typeof value === 'string') params.push(`${key}=${value}`);
    else params.push(`${key}=${HEX_PARAMS.has(key) ? `0x${value.toString(16)}` : formatDecimal(value)}`);
  }
  return `${f.kind}${where}${params.length ? `:${params.join(',')}` : ''}`;
}

/** `CPU=KIND[:NS]`, e.g. `3=late-arrival:2000000`. */
export function parseCpuFault(text: string, flag = '--cpu-fault'): CpuFault {
  const m = /^(\d{1,6})=([a-z-]+)(?::(\d+))?$/.exec(text);
  if (!m || !(CPU_FAULT_KINDS as readonly string[]).includes(m[2]!))
    bad(`bad ${flag} ${quoted(text)}: expected CPU=KIND[:NS], KIND one of ${CPU_FAULT_KINDS.join(', ')}`);
  const fault: Record<string, unknown> = { cpu: Number(m[1]), kind: m[2] };
  if (m[3] !== undefined) fault.delayNs = Number(m[3]);
  return checked(CpuFaultSchema, fault, flag, text);
}

export function formatCpuFault(f: CpuFault): string {
  return `${f.cpu}=${f.kind}${f.delayNs !== undefined ? `:${formatDecimal(f.delayNs)}` : ''}`;
}

/** `KEY=VALUE` for one cost-model parameter (hz and kernelGeneration have their own flags). */
export function parseCost(text: string, flag = '--cost'): Record<string, number> {
  const m = /^([A-Za-z]+)=(.*)$/.exec(text);
  if (!m) bad(`${flag} expects KEY=VALUE, got ${quoted(text)}`);
  const key = m[1]!;
  if (!COST_KEYS.includes(key) || key === 'hz' || key === 'kernelGeneration')
    bad(`${flag}: unknown cost parameter ${quoted(key)} (${COST_KEYS.filter(numericCostKey).join(', ')})`);
  const value = Number(m[2]);
  if (m[2] === '' || !Number.isFinite(value)) bad(`${flag} ${key} expects a number, got ${quoted(m[2]!)}`);
  return { [key]: value };
}

function numericCostKey(key: string): boolean {
  return key !== 'hz' && key !== 'kernelGeneration';
}

// ---- the whole run description as command-line flags ----

const asText = (xs: readonly (string | number)[]): string[] => xs.map(String);

/** The flags simulate, compare (and the campaign's replay commands) share. */
export const RUN_OPTIONS: readonly RunOption[] = [
  {
    name: 'machine',
    short: 'm',
    type: 'string',
    arg: 'NAME|FILE',
    group: 'machine',
    help: 'a preset or a JSON/YAML machine file (read up to 1 MiB); a file may say "extends": "<preset>" and override fields',
    default: 'gnr-2s',
    path: true,
  },
  {
    name: 'offline',
    type: 'string',
    arg: 'LIST',
    group: 'machine',
    help: 'CPUs to take offline, e.g. 3,5-7',
  },
  {
    name: 'cpu-fault',
    type: 'string',
    multiple: true,
    arg: 'CPU=KIND[:NS]',
    group: 'machine',
    help: `a CPU in the rendezvous: ${CPU_FAULT_KINDS.join(', ')} (late-arrival and late-to-stop-machine need their delay in ns); repeatable`,
  },
  {
    name: 'profile',
    type: 'string',
    multiple: true,
    arg: '[PKG=]SPEC',
    group: 'machine',
    help: 'mailbox behaviour as KIND[:KEY=VALUE,...]: ideal; slow (chunkNs=N); limited-cache (cacheChunks=N, rerequestProbability=P, verifyPass, extraChunks=N); e.g. limited-cache:cacheChunks=64,verifyPass',
    default: 'ideal',
  },
  {
    name: 'fault',
    type: 'string',
    multiple: true,
    arg: '[PKG=]KIND[@N|%P][:KEY=VALUE,...]',
    group: 'machine',
    help: `a mailbox fault at transaction N or with probability P per transaction; kinds: ${DEVICE_FAULT_KINDS.join(', ')}. respond scripts the answer: ${RESPOND_PARAMS.join(', ')} (offset: a dword, or len/chunk with +N or -N; sticky: every later GO until ABORT), e.g. respond@3:offset=len,sticky. Without PKG= a profile or fault applies to every package; repeatable`,
  },
  {
    name: 'firmware',
    short: 'f',
    type: 'string',
    arg: 'DIR|FILE',
    group: 'image',
    help: 'firmware folder (holding FF-MM-SS files) or one microcode file (read up to 64 MiB)',
    default: "/lib/firmware/intel-ucode when it has the CPU's file, else synthetic",
    path: true,
  },
  {
    name: 'synthetic',
    type: 'boolean',
    group: 'image',
    help: 'use a synthetic image even if firmware is installed',
  },
  {
    name: 'image-size',
    type: 'string',
    arg: 'BYTES',
    group: 'image',
    help: 'size of the synthetic image in bytes; K and M suffixes (binary)',
    default: '1670144, about 1.6 MB',
  },
  {
    name: 'staging',
    type: 'string',
    arg: STAGING_MODES.join('|'),
    group: 'kernel and policy',
    help: "auto: stage when the CPU enumerates it and fall back on failure (the kernel's); off: never; require: a staging failure aborts the load",
    default: 'auto',
    choices: STAGING_MODES,
  },
  {
    name: 'budget',
    type: 'string',
    arg: BUDGETS.join('|'),
    group: 'kernel and policy',
    help: "re-send budget: 2x the image (the kernel's) or per chunk",
    default: '2x',
    choices: BUDGETS,
  },
  {
    name: 'chunk-retries',
    type: 'string',
    arg: 'N',
    group: 'kernel and policy',
    help: 're-sends of one chunk allowed with --budget per-chunk',
    default: '3',
  },
  {
    name: 'dedupe',
    type: 'string',
    arg: DEDUPES.join('|'),
    group: 'kernel and policy',
    help: "which primary threads stage: skip one whose package equals the previous one's (the kernel's), or each package once",
    default: 'previous-package',
    choices: DEDUPES,
  },
  {
    name: 'poll',
    type: 'string',
    arg: POLLS.join('|'),
    group: 'kernel and policy',
    help: "STATUS wait: msleep(1) between reads (the kernel's) or --poll-us",
    default: 'msleep',
    choices: POLLS,
  },
  {
    name: 'poll-us',
    type: 'string',
    arg: 'N',
    group: 'kernel and policy',
    help: 'microseconds between STATUS reads with --poll fine',
    default: '10',
  },
  {
    name: 'poll-wait',
    type: 'string',
    arg: POLL_WAITS.join('|'),
    group: 'kernel and policy',
    help: 'how --poll fine waits between STATUS reads: udelay(N), usleep_range(N, 2N), or readl_poll_timeout() with a 10 s deadline in time instead of a count',
    default: 'udelay',
    choices: POLL_WAITS,
  },
  {
    name: 'stage-order',
    type: 'string',
    arg: STAGE_ORDERS.join('|'),
    group: 'kernel and policy',
    help: "packages staged one after another (the kernel's) or all at once, one worker each",
    default: 'serial',
    choices: STAGE_ORDERS,
  },
  {
    name: 'transaction-limit',
    type: 'string',
    arg: TRANSACTION_LIMITS.join('|'),
    group: 'kernel and policy',
    help: "none (the kernel's: only the 2x byte budget) or 2x: at most twice the image's chunk count of transactions per package",
    default: 'none',
    choices: TRANSACTION_LIMITS,
  },
  {
    name: 'offset-check',
    type: 'string',
    arg: OFFSET_CHECKS.join('|'),
    group: 'kernel and policy',
    help: "which next offsets end staging with -EINVAL: past the image end (the kernel's), or strict: also the image length and unaligned offsets",
    default: 'kernel',
    choices: OFFSET_CHECKS,
  },
  {
    name: 'force-minrev',
    type: 'boolean',
    group: 'kernel and policy',
    help: 'skip images not safe to late-load (the kernel option)',
  },
  {
    name: 'hz',
    type: 'string',
    arg: HZ_VALUES.join('|'),
    group: 'kernel and policy',
    help: 'kernel tick rate: Debian and Ubuntu kernels use 250, RHEL and Fedora 1000; staging polls with msleep(1), so it is about 4x slower at 250',
    default: '1000',
    choices: asText(HZ_VALUES),
  },
  {
    name: 'kernel',
    type: 'string',
    arg: KERNEL_GENERATIONS.join('|'),
    group: 'kernel and policy',
    help: 'msleep(1) rounding: 1-2 jiffies from 6.12, 2-3 before',
    default: '6.12+',
    choices: KERNEL_GENERATIONS,
  },
  {
    name: 'cost',
    type: 'string',
    multiple: true,
    arg: 'KEY=VALUE',
    group: 'kernel and policy',
    help: `override a cost-model parameter in ns (docs/cost-model.md): ${COST_KEYS.filter(numericCostKey).join(', ')}; repeatable`,
  },
  {
    name: 'seed',
    type: 'string',
    arg: 'N',
    group: 'kernel and policy',
    help: 'seed for every random choice, 0..4294967295',
    default: '1',
  },
  {
    name: 'time-limit',
    type: 'string',
    arg: 'SECONDS',
    group: 'kernel and policy',
    help: 'virtual time the run may take after the reload write; a run past it stops unfinished (a slow device may need more)',
    default: '3600',
  },
];

/** Parsed flag values, as node:util parseArgs gives them. */
export type RunArgValues = { [name: string]: string | boolean | (string | boolean)[] | undefined };

function str(v: RunArgValues, name: string): string | undefined {
  const x = v[name];
  if (x === undefined) return undefined;
  if (typeof x !== 'string') bad(`--${name} expects a value`);
  if (x === '') bad(`--${name} expects a value, got an empty one`);
  return x;
}

function strs(v: RunArgValues, name: string): string[] {
  const x = v[name];
  if (x === undefined) return [];
  const list = Array.isArray(x) ? x : [x];
  return list.map((item) => {
    if (typeof item !== 'string' || item === '') bad(`--${name} expects a value, got an empty one`);
    return item;
  });
}

/**
 * SimulateOptions from the run flags. `machine` is what the caller made of
 * --machine (a preset name, or the object read from a machine file), and
 * `cpus` its CPU count, which bounds --offline before expansion. --firmware and
 * --synthetic are the caller's: they name files.
 */
export function simulateOptionsFromArgs(
  v: RunArgValues,
  machine: MachineInput | undefined,
  cpus: number,
): SimulateOptions {
  const opts: SimulateOptions = {};
  if (machine !== undefined) opts.machine = machine;
  const pol: NonNullable<SimulateOptions['policy']> = {};
  const staging = str(v, 'staging');
  if (staging !== undefined) pol.staging = oneOf('--staging', staging, STAGING_MODES);
  const budget = str(v, 'budget');
  if (budget !== undefined) pol.budget = oneOf('--budget', budget, BUDGETS);
  const retries = str(v, 'chunk-retries');
  if (retries !== undefined) pol.chunkRetries = parseWholeNumber('--chunk-retries', retries, 0, 1000);
  const dedupe = str(v, 'dedupe');
  if (dedupe !== undefined) pol.dedupe = oneOf('--dedupe', dedupe, DEDUPES);
  const poll = str(v, 'poll');
  if (poll !== undefined) pol.poll = oneOf('--poll', poll, POLLS);
  const pollUs = str(v, 'poll-us');
  if (pollUs !== undefined) pol.pollUs = parseWholeNumber('--poll-us', pollUs, 1, 1_000_000);
  if (v['force-minrev'] === true) pol.forceMinrev = true;
  const pollWait = str(v, 'poll-wait');
  if (pollWait !== undefined) pol.pollWait = oneOf('--poll-wait', pollWait, POLL_WAITS);
  const order = str(v, 'stage-order');
  if (order !== undefined) pol.stageOrder = oneOf('--stage-order', order, STAGE_ORDERS);
  const txLimit = str(v, 'transaction-limit');
  if (txLimit !== undefined) pol.transactionLimit = oneOf('--transaction-limit', txLimit, TRANSACTION_LIMITS);
  const offsetCheck = str(v, 'offset-check');
  if (offsetCheck !== undefined) pol.offsetCheck = oneOf('--offset-check', offsetCheck, OFFSET_CHECKS);
  if (Object.keys(pol).length) opts.policy = pol;

  const profiles = strs(v, 'profile').map((t) => parsePackageScoped('--profile', t, (r) => parseProfile(r)));
  if (profiles.length) opts.profiles = profiles;
  const faults = strs(v, 'fault').map((t) => parsePackageScoped('--fault', t, (r) => parseFault(r)));
  if (faults.length) opts.faults = faults;
  const offline = str(v, 'offline');
  if (offline !== undefined) opts.offlineCpus = parseCpuList('--offline', offline, cpus);
  const cpuFaults = strs(v, 'cpu-fault').map((t) => parseCpuFault(t));
  if (cpuFaults.length) opts.cpuFaults = cpuFaults;
  const cost: NonNullable<SimulateOptions['cost']> = {};
  const hz = str(v, 'hz');
  if (hz !== undefined) cost.hz = oneOf('--hz', hz, HZ_VALUES);
  const kernel = str(v, 'kernel');
  if (kernel !== undefined) cost.kernelGeneration = oneOf('--kernel', kernel, KERNEL_GENERATIONS);
  for (const kv of strs(v, 'cost')) Object.assign(cost, parseCost(kv));
  if (Object.keys(cost).length) opts.cost = cost;

  const seed = str(v, 'seed');
  if (seed !== undefined) opts.seed = parseWholeNumber('--seed', seed, 0, 0xffff_ffff);
  const limit = str(v, 'time-limit');
  if (limit !== undefined) {
    const seconds = parseDecimal('--time-limit', limit);
    if (seconds <= 0 || seconds > MAX_TIME_LIMIT_S)
      bad(`--time-limit must be within 0..${MAX_TIME_LIMIT_S} seconds (not 0), got ${limit}`);
    opts.timeLimitNs = Math.round(seconds * 1e9);
  }
  const size = str(v, 'image-size');
  if (size !== undefined) opts.syntheticImageBytes = parseSize('--image-size', size);
  return opts;
}

/**
 * The flags that describe `opts` again (simulateOptionsFromArgs reads them back
 * to the same options). A machine object or firmware cannot be written as a
 * flag value: the caller names where it put them (`machineRef`, `firmwareRef`).
 */
export function argsFromSimulateOptions(
  opts: SimulateOptions,
  refs: { machine?: string; firmware?: string } = {},
): string[] {
  const args: string[] = [];
  if (typeof opts.machine === 'string') args.push('--machine', opts.machine);
  else if (opts.machine !== undefined) {
    if (refs.machine === undefined) throw new RangeError('this run needs its machine file for a replay');
    args.push('--machine', refs.machine);
  }
  if (opts.firmware !== undefined) {
    if (refs.firmware === undefined) throw new RangeError('this run needs its firmware file for a replay');
    args.push('--firmware', refs.firmware);
  } else if (opts.syntheticImageBytes !== undefined) {
    args.push('--synthetic', '--image-size', String(opts.syntheticImageBytes));
  }
  for (const p of opts.profiles ?? []) args.push('--profile', formatPackageScoped(p, formatProfile));
  for (const f of opts.faults ?? []) args.push('--fault', formatPackageScoped(f, formatFault));
  if (opts.offlineCpus !== undefined) args.push('--offline', formatCpuList(opts.offlineCpus));
  for (const c of opts.cpuFaults ?? []) args.push('--cpu-fault', formatCpuFault(c));
  const { hz, kernelGeneration, ...cost } = opts.cost ?? {};
  if (hz !== undefined) args.push('--hz', String(hz));
  if (kernelGeneration !== undefined) args.push('--kernel', kernelGeneration);
  for (const [key, value] of Object.entries(cost)) {
    if (value !== undefined) args.push('--cost', `${key}=${formatDecimal(value as number)}`);
  }
  const p = opts.policy ?? {};
  if (p.staging !== undefined) args.push('--staging', p.staging);
  if (p.budget !== undefined) args.push('--budget', p.budget);
  if (p.chunkRetries !== undefined) args.push('--chunk-retries', String(p.chunkRetries));
  if (p.dedupe !== undefined) args.push('--dedupe', p.dedupe);
  if (p.poll !== undefined) args.push('--poll', p.poll);
  if (p.pollUs !== undefined) args.push('--poll-us', String(p.pollUs));
  if (p.forceMinrev) args.push('--force-minrev');
  if (p.pollWait !== undefined) args.push('--poll-wait', p.pollWait);
  if (p.stageOrder !== undefined) args.push('--stage-order', p.stageOrder);
  if (p.transactionLimit !== undefined) args.push('--transaction-limit', p.transactionLimit);
  if (p.offsetCheck !== undefined) args.push('--offset-check', p.offsetCheck);
  if (opts.seed !== undefined) args.push('--seed', String(opts.seed));
  if (opts.timeLimitNs !== undefined) args.push('--time-limit', formatDecimal(opts.timeLimitNs / 1e9));
  return args;
}

/** An argument as a POSIX shell reads it back unchanged. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=,%@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** `ucode-staging ARGS...`, quoted for a shell. */
export function commandLine(args: readonly string[]): string {
  return ['ucode-staging', ...args].map(shellQuote).join(' ');
}
