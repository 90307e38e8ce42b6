import {
  argsFromSimulateOptions,
  commandLine,
  cpuCount,
  type MachineInput,
  machineSpecInput,
  parseArgsTable,
  RUN_OPTIONS,
  type RunArgValues,
  type SimulateOptions,
  SimulationInputError,
  shellQuote,
  simulateOptionsFromArgs,
} from '../index.js';

// A run of the playground is the CLI's run flags (`ucode-staging simulate FLAGS`): the URL
// hash holds them, the worker parses them with the library's grammar, and "copy as CLI
// command" prints them. Two things the CLI takes as files travel differently: a machine
// shape is written inline as JSON (`--machine={"extends":...}`), and a dropped microcode
// file is named (`--firmware=06-ad-01`) and must be dropped again to rerun a link.

const TABLE = parseArgsTable(RUN_OPTIONS);
const SHORT = new Map(RUN_OPTIONS.filter((o) => o.short).map((o) => [o.short!, o.name]));

function bad(message: string): never {
  throw new SimulationInputError(message);
}

/** argv (as the CLI gets it after `simulate`) → flag values, as node:util parseArgs gives them. */
export function parseRunArgv(argv: readonly string[]): RunArgValues {
  const values: RunArgValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = arg.slice(2, eq < 0 ? undefined : eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) name = SHORT.get(arg[1]!);
    const o = name === undefined ? undefined : TABLE[name];
    if (name === undefined || o === undefined) bad(`unknown option '${arg}'`);
    if (o.type === 'boolean') {
      if (inline !== undefined) bad(`option '--${name}' does not take a value`);
      values[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) bad(`option '--${name}' expects a value`);
      value = argv[++i]!;
    }
    if (o.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  return values;
}

/** The machine a --machine value names: a preset, or a machine object written inline as JSON. */
export function machineOf(value: string | undefined): MachineInput | undefined {
  if (value === undefined || !value.startsWith('{')) return value;
  let data: unknown;
  try {
    data = JSON.parse(value);
  } catch (err) {
    bad(`--machine: not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) bad('--machine: expected an object');
  return data as MachineInput;
}

export interface ParsedRun {
  options: SimulateOptions;
  /** The dropped file the run needs (--firmware), by name; absent: a synthetic image. */
  firmwareName?: string;
}

/** The run a flag list describes (everything but the firmware bytes), checked by the library's grammar. */
export function parseRun(argv: readonly string[]): ParsedRun {
  const values = parseRunArgv(argv);
  const machine = machineOf(typeof values.machine === 'string' ? values.machine : undefined);
  const base = machineSpecInput(machine);
  const cpus = typeof base.packages === 'number' ? cpuCount(base as Parameters<typeof cpuCount>[0]) : 65_536;
  const options = simulateOptionsFromArgs(values, machine, cpus);
  const firmware = typeof values.firmware === 'string' ? values.firmware : undefined;
  if (firmware !== undefined && (values.synthetic === true || values['image-size'] !== undefined))
    bad('--synthetic/--image-size and --firmware exclude each other');
  return firmware === undefined ? { options } : { options, firmwareName: firmware };
}

/** The canonical flags of a run (argsFromSimulateOptions), with the machine inline and the file by name. */
export function runArgs(run: ParsedRun): string[] {
  const { options, firmwareName } = run;
  const machine = typeof options.machine === 'object' ? JSON.stringify(options.machine) : undefined;
  // argsFromSimulateOptions writes --firmware only for options that hold the bytes.
  const withFile = firmwareName === undefined ? options : { ...options, firmware: new Uint8Array(0) };
  return argsFromSimulateOptions(withFile, {
    ...(machine === undefined ? {} : { machine }),
    ...(firmwareName === undefined ? {} : { firmware: firmwareName }),
  });
}

/** Characters a fragment may hold as they are (RFC 3986), but not '&' (the separator) or '%'. */
const FRAGMENT_SAFE = /[A-Za-z0-9\-._~!$'()*+,;=:@/?]/;

function encodePart(text: string): string {
  let out = '';
  for (const ch of text) out += FRAGMENT_SAFE.test(ch) ? ch : encodeURIComponent(ch);
  return out;
}

/** Flags → `#--machine=gnr-2s-interleaved&--fault=never-ready@0` (a value joined to its flag by '='). */
export function hashOf(argv: readonly string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const o = arg.startsWith('--') ? TABLE[arg.slice(2)] : undefined;
    if (o?.type === 'string' && i + 1 < argv.length) parts.push(`${arg}=${argv[++i]!}`);
    else parts.push(arg);
  }
  return parts.length ? `#${parts.map(encodePart).join('&')}` : '';
}

/** The flags a hash holds (the inverse of hashOf). */
export function argvOfHash(hash: string): string[] {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  if (text === '') return [];
  return text.split('&').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return bad(`the link is damaged near '${p.slice(0, 40)}'`);
    }
  });
}

/** The machine file name the CLI command writes a machine shape to. */
export const MACHINE_FILE = 'playground-machine.json';

/**
 * The `ucode-staging simulate` line that gives the same run. A synthetic image is said
 * explicitly (--synthetic): the CLI would otherwise use /lib/firmware when it has the file.
 * A machine shape is written to a file first, in the same line.
 */
export function cliCommand(run: ParsedRun): string {
  const args = runArgs(run);
  const machineAt = args.indexOf('--machine');
  let prefix = '';
  if (machineAt >= 0 && args[machineAt + 1]!.startsWith('{')) {
    prefix = `printf '%s\\n' ${shellQuote(args[machineAt + 1]!)} > ${MACHINE_FILE} && `;
    args[machineAt + 1] = MACHINE_FILE;
  }
  if (run.firmwareName === undefined && !args.includes('--synthetic')) args.unshift('--synthetic');
  return `${prefix}${commandLine(['simulate', ...args])}`;
}
