import type { CommandSpec } from './spec.js';

// Apart from commands.ts, which needs the run options (and with them the simulator's
// schemas): inspect only parses files, and starts without loading the simulator.

export const INSPECT: CommandSpec = {
  name: 'inspect',
  summary: 'list and check Intel microcode files (like iucode_tool -l)',
  usage: '<file|dir>... [--json] [--match SIG[,PF]]',
  description:
    'List every microcode blob in the given files (a folder means every regular file in it, by name) and check each one exactly as the Linux loader does before a late load. At most 10,000 files and 1 GiB in all; each file up to 64 MiB; FIFOs, devices and sockets are refused.',
  options: [
    {
      name: 'json',
      type: 'boolean',
      group: 'options',
      help: 'machine-readable output (schema ucode-staging/inspect@2)',
    },
    {
      name: 'match',
      type: 'string',
      arg: 'SIG[,PF]',
      group: 'options',
      help: 'only blobs a CPU would accept: SIG is CPUID(1).EAX in hex (0xa06d1 or a06d1); PF is the platform id 0-7 (MSR 0x17 bits 52:50). Without PF any platform mask matches',
    },
  ],
  operands: { name: '<file|dir>', path: true, required: true },
  exit: [
    ['0', 'all blobs valid'],
    ['1', 'a file would be rejected by the kernel'],
    ['2', 'usage error'],
  ],
  examples: ['ucode-staging inspect /lib/firmware/intel-ucode --match 0xa06d1,0'],
};
