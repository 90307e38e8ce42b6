import { type CliIo, type Command, UsageError } from './io.js';

// Loaded lazily so `inspect` does not pay for the simulator's modules and vice versa.
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  simulate: {
    summary: 'run one late load with staging on an emulated machine (the main job)',
    load: async () => (await import('./simulate.js')).simulateCommand,
  },
  compare: {
    summary: 'the same load with staging off and on, optionally swept over sizes, HZ, machines',
    load: async () => (await import('./compare.js')).compareCommand,
  },
  campaign: {
    summary: 'many seeded runs over a space of machines, faults and policies, with invariant checks',
    load: async () => (await import('./campaign.js')).campaignCommand,
  },
  inspect: {
    summary: 'list and check Intel microcode files (like iucode_tool -l)',
    load: async () => (await import('./inspect.js')).inspectCommand,
  },
};

export function usage(): string {
  const lines = ['usage: ucode-staging <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', "Run 'ucode-staging <command> --help' for a command's options.");
  return `${lines.join('\n')}\n`;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (!entry) {
    io.stderr(`ucode-staging: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`ucode-staging ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof Error && err.name === 'SimulationLimitError') {
      io.stderr(`ucode-staging ${name}: the run did not finish: ${err.message}\n`);
      return 1;
    }
    // A bug in the tool, not the user's input: still one readable line, no stack.
    const msg = err instanceof Error ? err.message : String(err);
    io.stderr(`ucode-staging ${name}: internal error: ${msg}\n`);
    return 3;
  }
}
