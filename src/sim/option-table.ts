// Plain data and no imports: the CLI's entry parses its arguments with this without
// loading the simulator.

/** One flag of a command line: everything a parser, --help, a man page and a completion need. */
export interface RunOption {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** The value's shape in help, e.g. `NAME|FILE`. */
  arg?: string;
  /** Heading the option is listed under. */
  group: string;
  help: string;
  /** Shown as "(default ...)" after the help. */
  default?: string;
  /** Values a shell may complete. */
  choices?: readonly string[];
  /** The value is a path (a shell completes a file name). */
  path?: boolean;
}

/** The option table in node:util parseArgs' shape (plain data, no Node import). */
export function parseArgsTable(
  options: readonly RunOption[],
): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const table: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of options) {
    table[o.name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  return table;
}
