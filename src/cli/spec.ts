import { parseArgs } from 'node:util';
import { parseArgsTable, type RunOption } from '../index.js';
import { UsageError } from './io.js';

// Every command is described once, as data: its options with their value
// shapes, defaults and units, its operands and exit statuses. The parser, the
// --help text, the man page, the shell completions and docs/cli.md are all
// generated from these descriptions, so they cannot disagree.

/** An option of a command: the library's RunOption shape (name, value, group, help, default, choices). */
export type CliOption = RunOption;

export interface CommandSpec {
  name: string;
  summary: string;
  /** What follows `ucode-staging NAME` in the usage line. */
  usage: string;
  /** Paragraphs, separated by blank lines. */
  description: string;
  options: readonly CliOption[];
  /** Operands after the options, e.g. `<file|dir>...`; absent: none. */
  operands?: { name: string; path: boolean; required: boolean };
  /** One line per status: [status, meaning]. */
  exit: readonly [string, string][];
  examples?: readonly string[];
}

export const HELP_OPTION: CliOption = {
  name: 'help',
  short: 'h',
  type: 'boolean',
  help: 'this text',
  group: 'other',
};

/** Handled for every command before it runs (src/cli/color.ts); listed in every help. */
export const COLOR_OPTION: CliOption = {
  name: 'color',
  type: 'string',
  arg: 'auto|always|never',
  help: 'colour errors, taint and success on standard output; auto: on a terminal, unless NO_COLOR is set',
  default: 'auto',
  group: 'other',
  choices: ['auto', 'always', 'never'],
};

/** Options every command takes (--color is handled before the command runs). */
export const COMMON_OPTIONS: readonly CliOption[] = [COLOR_OPTION, HELP_OPTION];

/** Text wrapped at `width` columns, every line after `head` indented by `indent`. */
export function hanging(head: string, text: string, indent: number, width: number): string[] {
  const lines: string[] = [];
  let line: string;
  if (head.length + 2 <= indent) line = head.padEnd(indent);
  else {
    lines.push(head);
    line = ' '.repeat(indent);
  }
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line.trimEnd());
      line = ' '.repeat(indent);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  if (!empty) lines.push(line.trimEnd());
  return lines;
}

/** `-m, --machine NAME|FILE` */
export function optionHead(o: CliOption): string {
  return `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.arg ? ` ${o.arg}` : ''}`;
}

export function optionHelp(o: CliOption): string {
  return o.default === undefined ? o.help : `${o.help} (default ${o.default})`;
}

/** The command's --help: usage, description, options by group, exit statuses; at most `width` columns. */
export function helpText(spec: CommandSpec, width = 80): string {
  const out: string[] = [`usage: ucode-staging ${spec.name} ${spec.usage}`.trimEnd(), ''];
  for (const para of spec.description.split(/\n\s*\n/)) out.push(...hanging('', para, 0, width).slice(1), '');
  const groups = new Map<string, CliOption[]>();
  for (const o of [...spec.options, ...COMMON_OPTIONS])
    groups.set(o.group, [...(groups.get(o.group) ?? []), o]);
  for (const [group, options] of groups) {
    out.push(`${group}:`);
    for (const o of options) out.push(...hanging(`  ${optionHead(o)}`, optionHelp(o), 28, width));
  }
  out.push('', 'exit status:');
  for (const [status, meaning] of spec.exit) out.push(...hanging(`  ${status}`, meaning, 8, width));
  if (spec.examples?.length) {
    out.push('', 'examples:');
    for (const e of spec.examples) out.push(`  ${e}`);
  }
  return `${out.join('\n')}\n`;
}

/** The closest of `candidates` to `word` (edit distance at most a third of its length), if any. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Long options may be shortened to any unambiguous prefix, as getopt_long
 * allows (`--mach` for `--machine`); an ambiguous or unknown one is a usage
 * error that names the candidates.
 */
export function expandPrefixes(argv: readonly string[], options: readonly CliOption[]): string[] {
  const names = options.map((o) => o.name);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith('--') || arg.length === 2) {
      // A string option's value is taken as is, even when it starts with '-' (as getopt does);
      // the `--name=value` form tells parseArgs so.
      const short = /^-([A-Za-z])$/.exec(arg)?.[1];
      const o = short === undefined ? undefined : options.find((x) => x.short === short);
      if (o?.type === 'string' && i + 1 < argv.length) out.push(`--${o.name}=${argv[++i]!}`);
      else out.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const rest = eq < 0 ? '' : arg.slice(eq);
    let full = names.includes(name) ? name : undefined;
    if (full === undefined) {
      const matches = names.filter((n) => n.startsWith(name));
      if (matches.length > 1)
        throw new UsageError(`option '--${name}' is ambiguous: ${matches.map((m) => `--${m}`).join(', ')}`);
      full = matches[0];
    }
    if (full === undefined) {
      const guess = didYouMean(name, names);
      throw new UsageError(`unknown option '--${name}'${guess ? ` (did you mean '--${guess}'?)` : ''}`);
    }
    const o = options.find((x) => x.name === full)!;
    if (o.type === 'string' && eq < 0 && i + 1 < argv.length) out.push(`--${full}=${argv[++i]!}`);
    else out.push(`--${full}${rest}`);
  }
  return out;
}

export type ParsedValues = { [name: string]: string | boolean | (string | boolean)[] | undefined };

/** Parse a command's arguments by its spec: prefixes expanded, errors as one-line usage errors. */
export function parseCommand(
  spec: CommandSpec,
  argv: readonly string[],
): { values: ParsedValues; positionals: string[] } {
  const options = [...spec.options, HELP_OPTION];
  const expanded = expandPrefixes(argv, options);
  const table = parseArgsTable(options);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: expanded,
      options: table,
      allowPositionals: spec.operands !== undefined,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify .*$/s, ''));
  }
  const values = parsed.values as ParsedValues;
  if (values.help !== true && spec.operands?.required && parsed.positionals.length === 0)
    throw new UsageError(`missing ${spec.operands.name} (see --help)`);
  return { values, positionals: parsed.positionals };
}
