import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { fmsFileName } from '../format/index.js';
import { type FirmwareSource, MemoryFirmware } from '../kernel/firmware.js';
import type { PolicyInput } from '../kernel/policy.js';
import type { MachineSpecInput } from '../platform/machine-spec.js';
import { DEVICE_FAULT_KINDS, type DeviceFault, type DeviceProfile } from '../platform/mailbox/config.js';
import { PRESETS } from '../platform/presets.js';
import { resolveMachine, type SimulateOptions, SimulationInputError } from '../sim/simulate.js';
import { FolderFirmware } from './folder-firmware.js';
import { UsageError } from './io.js';

export const DEFAULT_FIRMWARE_DIR = '/lib/firmware/intel-ucode';

/** parseArgs option table shared by simulate, compare and campaign. */
export const SIM_OPTIONS = {
  machine: { type: 'string', short: 'm' },
  firmware: { type: 'string', short: 'f' },
  synthetic: { type: 'boolean' },
  'image-size': { type: 'string' },
  staging: { type: 'string' },
  budget: { type: 'string' },
  'chunk-retries': { type: 'string' },
  dedupe: { type: 'string' },
  poll: { type: 'string' },
  'poll-us': { type: 'string' },
  'force-minrev': { type: 'boolean' },
  profile: { type: 'string', multiple: true },
  fault: { type: 'string', multiple: true },
  offline: { type: 'string' },
  'cpu-fault': { type: 'string', multiple: true },
  hz: { type: 'string' },
  kernel: { type: 'string' },
  cost: { type: 'string', multiple: true },
  seed: { type: 'string' },
} as const;

export const SIM_OPTIONS_HELP = `machine:
  -m, --machine NAME|FILE   preset (${Object.keys(PRESETS).join(', ')}) or a JSON/YAML machine file
                            (a file may say "extends": "<preset>" and override fields)
      --offline LIST        CPUs to take offline, e.g. 3,5-7
      --cpu-fault CPU=KIND[:NS]  never-arrives | late-arrival:NS | apply-rejected
      --profile [PKG=]SPEC  mailbox behaviour: ideal | slow:chunkNs=N |
                            limited-cache:cacheChunks=N[,rerequestProbability=P][,verifyPass][,extraChunks=N]
      --fault [PKG=]KIND[@N|%P]  inject at transaction N or with probability P; kinds:
                            ${DEVICE_FAULT_KINDS.join(', ')}
                            (without PKG= a profile or fault applies to every package)
image:
  -f, --firmware DIR|FILE   firmware folder (holding FF-MM-SS files) or one microcode file
                            (default ${DEFAULT_FIRMWARE_DIR} when it has this CPU's file)
      --synthetic           use a synthetic image even if firmware is installed
      --image-size BYTES    size of the synthetic image (default 1670144; K/M suffixes)
kernel and policy:
      --staging auto|off|require   (default auto: the kernel's behaviour)
      --budget 2x|per-chunk  --chunk-retries N
      --dedupe previous-package|distinct
      --poll msleep|fine     --poll-us N
      --force-minrev
      --hz 100|250|300|1000  --kernel 6.12+|pre-6.12
      --cost KEY=VALUE      override a cost-model parameter (ns), repeatable
      --seed N              seed for every random choice (default 1)`;

export type SimValues = {
  -readonly [K in keyof typeof SIM_OPTIONS]?: (typeof SIM_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof SIM_OPTIONS)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

export interface ResolvedSimOptions {
  options: SimulateOptions;
  /** What the image is, for "which image was used". */
  imageNote: string;
}

export function resolveSimOptions(v: SimValues, env: Record<string, string | undefined>): ResolvedSimOptions {
  let machine = loadMachine(v.machine);
  machine = applyPackageOptions(machine, v);
  const seed = v.seed === undefined ? 1 : parseIntOption('--seed', v.seed, 0, 0xffff_ffff);
  const policy: PolicyInput = {};
  if (v.staging !== undefined) policy.staging = oneOf('--staging', v.staging, ['auto', 'off', 'require']);
  if (v.budget !== undefined) policy.budget = oneOf('--budget', v.budget, ['2x', 'per-chunk']);
  if (v['chunk-retries'] !== undefined)
    policy.chunkRetries = parseIntOption('--chunk-retries', v['chunk-retries'], 0, 1000);
  if (v.dedupe !== undefined) policy.dedupe = oneOf('--dedupe', v.dedupe, ['previous-package', 'distinct']);
  if (v.poll !== undefined) policy.poll = oneOf('--poll', v.poll, ['msleep', 'fine']);
  if (v['poll-us'] !== undefined) policy.pollUs = parseIntOption('--poll-us', v['poll-us'], 1, 1_000_000);
  if (v['force-minrev']) policy.forceMinrev = true;

  const spec = checkMachine(machine);
  const { firmware, note } = resolveImage(v, spec, env);
  const options: SimulateOptions = { machine, policy, seed };
  if (firmware !== undefined) options.firmware = firmware;
  if (v['image-size'] !== undefined) options.syntheticImageBytes = parseSize('--image-size', v['image-size']);
  return { options, imageNote: note };
}

function checkMachine(machine: string | MachineSpecInput) {
  try {
    return resolveMachine(machine);
  } catch (err) {
    if (err instanceof SimulationInputError) throw new UsageError(err.message);
    throw err;
  }
}

function loadMachine(arg: string | undefined): string | MachineSpecInput {
  if (arg === undefined) return 'gnr-2s';
  if (PRESETS[arg]) return arg;
  if (!/[./]/.test(arg)) {
    throw new UsageError(
      `unknown machine preset '${arg}' (known: ${Object.keys(PRESETS).join(', ')}; or give a .json/.yaml file)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(arg, 'utf8');
  } catch {
    throw new UsageError(`cannot read machine file '${arg}'`);
  }
  let data: unknown;
  try {
    data = ['.yaml', '.yml'].includes(extname(arg).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `machine file '${arg}' is not valid ${extname(arg) === '.json' ? 'JSON' : 'JSON/YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`machine file '${arg}' must hold an object`);
  }
  const { extends: base, ...rest } = data as Record<string, unknown>;
  if (base === undefined) return rest as MachineSpecInput;
  if (typeof base !== 'string' || !PRESETS[base]) {
    throw new UsageError(
      `machine file '${arg}': "extends" must name a preset (${Object.keys(PRESETS).join(', ')})`,
    );
  }
  return { ...PRESETS[base], ...rest } as MachineSpecInput;
}

function applyPackageOptions(machine: string | MachineSpecInput, v: SimValues): string | MachineSpecInput {
  const needs =
    v.profile?.length ||
    v.fault?.length ||
    v.offline ||
    v['cpu-fault']?.length ||
    v.hz ||
    v.kernel ||
    v.cost?.length;
  if (!needs) return machine;
  const base: MachineSpecInput =
    typeof machine === 'string' ? structuredClone(checkPreset(machine)) : structuredClone(machine);
  const packages = base.packages;
  const configs = Array.from({ length: packages }, (_, p) => ({ ...(base.packageConfig?.[p] ?? {}) }));
  const targets = (pkg: number | undefined): number[] => {
    if (pkg === undefined) return configs.map((_, i) => i);
    if (pkg >= packages) throw new UsageError(`package ${pkg} does not exist (the machine has ${packages})`);
    return [pkg];
  };
  for (const arg of v.profile ?? []) {
    const { pkg, rest } = splitPackage('--profile', arg);
    const profile = parseProfile(rest);
    for (const p of targets(pkg)) configs[p]!.profile = profile;
  }
  for (const arg of v.fault ?? []) {
    const { pkg, rest } = splitPackage('--fault', arg);
    const fault = parseFault(rest);
    for (const p of targets(pkg)) configs[p]!.faults = [...(configs[p]!.faults ?? []), fault];
  }
  base.packageConfig = configs;
  if (v.offline) base.offlineCpus = parseCpuList('--offline', v.offline);
  if (v['cpu-fault']?.length) {
    base.cpuFaults = [...(base.cpuFaults ?? []), ...v['cpu-fault'].map(parseCpuFault)];
  }
  const cost: Record<string, unknown> = { ...(base.cost ?? {}) };
  if (v.hz) cost.hz = Number(oneOf('--hz', v.hz, ['100', '250', '300', '1000']));
  if (v.kernel) cost.kernelGeneration = oneOf('--kernel', v.kernel, ['6.12+', 'pre-6.12']);
  for (const kv of v.cost ?? []) {
    const m = /^([A-Za-z]+)=(.+)$/.exec(kv);
    if (!m) throw new UsageError(`--cost expects KEY=VALUE, got '${kv}'`);
    const value = Number(m[2]);
    cost[m[1]!] = Number.isFinite(value) ? value : m[2];
  }
  base.cost = cost as MachineSpecInput['cost'];
  return base;
}

function checkPreset(name: string): MachineSpecInput {
  const p = PRESETS[name];
  if (!p) throw new UsageError(`unknown machine preset '${name}'`);
  return p;
}

function splitPackage(flag: string, arg: string): { pkg: number | undefined; rest: string } {
  const m = /^(\d+)=(.*)$/.exec(arg);
  if (!m) return { pkg: undefined, rest: arg };
  return { pkg: parseIntOption(flag, m[1]!, 0, 63), rest: m[2]! };
}

export function parseProfile(text: string): DeviceProfile {
  const [kind, params = ''] = text.split(':', 2) as [string, string?];
  const kv = parseParams('--profile', params);
  switch (kind) {
    case 'ideal':
      return { kind: 'ideal' };
    case 'slow':
      return { kind: 'slow', chunkNs: num('--profile slow', kv, 'chunkNs', 1_000_000) };
    case 'limited-cache':
      return {
        kind: 'limited-cache',
        cacheChunks: num('--profile limited-cache', kv, 'cacheChunks', 64),
        rerequestProbability: num('--profile limited-cache', kv, 'rerequestProbability', 0),
        verifyPass: kv.has('verifyPass') && kv.get('verifyPass') !== 'false',
        extraChunks: num('--profile limited-cache', kv, 'extraChunks', 0),
      };
    default:
      throw new UsageError(`unknown device profile '${kind}' (ideal, slow, limited-cache)`);
  }
}

export function parseFault(text: string): DeviceFault {
  const m = /^([a-z-]+)(?:@(\d+)|%([0-9.]+))?$/.exec(text);
  if (!m || !(DEVICE_FAULT_KINDS as readonly string[]).includes(m[1]!)) {
    throw new UsageError(
      `bad --fault '${text}': expected KIND[@TRANSACTION|%PROBABILITY], KIND one of ${DEVICE_FAULT_KINDS.join(', ')}`,
    );
  }
  const fault: DeviceFault = { kind: m[1] as DeviceFault['kind'] };
  if (m[2] !== undefined) fault.atTransaction = Number(m[2]);
  if (m[3] !== undefined) {
    const p = Number(m[3]);
    if (!(p >= 0 && p <= 1)) throw new UsageError(`bad --fault '${text}': probability must be within 0..1`);
    fault.probability = p;
  }
  return fault;
}

function parseCpuFault(text: string): NonNullable<MachineSpecInput['cpuFaults']>[number] {
  const m = /^(\d+)=(never-arrives|late-arrival|apply-rejected)(?::(\d+))?$/.exec(text);
  if (!m)
    throw new UsageError(
      `bad --cpu-fault '${text}': expected CPU=never-arrives|late-arrival:NS|apply-rejected`,
    );
  const f: NonNullable<MachineSpecInput['cpuFaults']>[number] = {
    cpu: Number(m[1]),
    kind: m[2] as 'never-arrives' | 'late-arrival' | 'apply-rejected',
  };
  if (m[3] !== undefined) f.delayNs = Number(m[3]);
  return f;
}

export function parseCpuList(flag: string, text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new UsageError(`bad ${flag} '${text}': expected a list like 3,5-7`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 100_000) throw new UsageError(`bad ${flag} range '${part}'`);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

function parseParams(flag: string, text: string): Map<string, string> {
  const map = new Map<string, string>();
  if (!text) return map;
  for (const part of text.split(',')) {
    const [k, val] = part.split('=', 2) as [string, string?];
    if (!k) throw new UsageError(`bad ${flag} parameter '${part}'`);
    map.set(k, val ?? 'true');
  }
  return map;
}

function num(flag: string, kv: Map<string, string>, key: string, dflt: number): number {
  const raw = kv.get(key);
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0)
    throw new UsageError(`${flag}: ${key} must be a non-negative number, got '${raw}'`);
  return v;
}

export function parseIntOption(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} expects a whole number, got '${text}'`);
  const v = Number(text);
  if (v < min || v > max) throw new UsageError(`${flag} must be within ${min}..${max}, got ${v}`);
  return v;
}

export function parseSize(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KkMm]?)$/.exec(text);
  if (!m) throw new UsageError(`${flag} expects a size like 1670144, 512K or 1.6M, got '${text}'`);
  const mult = m[2]!.toLowerCase() === 'k' ? 1024 : m[2]!.toLowerCase() === 'm' ? 1024 * 1024 : 1;
  const v = Math.round(Number(m[1]) * mult);
  if (v < 52 || v > 256 * 1024 * 1024)
    throw new UsageError(`${flag} must be within 52 bytes..256M, got ${text}`);
  return v;
}

function oneOf<const T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

function resolveImage(
  v: SimValues,
  spec: { signature: number; platformId: number; initialRevision: number },
  env: Record<string, string | undefined>,
): { firmware: FirmwareSource | Uint8Array | undefined; note: string } {
  const fileName = fmsFileName(spec.signature);
  if (v.synthetic || v['image-size'] !== undefined) {
    if (v.firmware !== undefined)
      throw new UsageError('--synthetic/--image-size and --firmware exclude each other');
    return { firmware: undefined, note: 'synthetic' };
  }
  if (v.firmware !== undefined) {
    if (!existsSync(v.firmware)) throw new UsageError(`firmware '${v.firmware}' does not exist`);
    if (statSync(v.firmware).isDirectory()) {
      try {
        readdirSync(v.firmware);
      } catch {
        throw new UsageError(`cannot read firmware folder '${v.firmware}'`);
      }
      return { firmware: new FolderFirmware(v.firmware), note: `${join(v.firmware, fileName)}` };
    }
    try {
      // Installed under the CPU's own name, as if copied into /lib/firmware/intel-ucode.
      const bytes = new Uint8Array(readFileSync(v.firmware));
      const firmware = new MemoryFirmware(new Map([[`intel-ucode/${fileName}`, bytes]]), v.firmware);
      return { firmware, note: v.firmware };
    } catch {
      throw new UsageError(`cannot read firmware file '${v.firmware}'`);
    }
  }
  const dir = env.UCODE_STAGING_FIRMWARE_DIR ?? DEFAULT_FIRMWARE_DIR;
  if (existsSync(join(dir, fileName)))
    return { firmware: new FolderFirmware(dir), note: join(dir, fileName) };
  return { firmware: undefined, note: `synthetic (no ${join(dir, fileName)})` };
}
