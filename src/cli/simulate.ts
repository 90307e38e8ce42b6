import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  chromeTraceJson,
  formatSummary,
  mmiotraceChunks,
  renderReport,
  resultJson,
  type SimulationResult,
  simulate,
} from '../index.js';
import { type CliIo, type Command, printable, UsageError } from './io.js';
import { type OutputPlan, planOutputs } from './output-plan.js';
import { Progress } from './progress.js';
import { asUsage, resolveSimOptions, SIM_OPTIONS, SIM_OPTIONS_HELP, type SimValues } from './sim-options.js';

const HELP = `usage: ucode-staging simulate [options]

Run one late load (echo 1 > /sys/devices/system/cpu/microcode/reload) on an
emulated machine and print the kernel log and a summary. With no options: the
2-socket Granite Rapids-class preset and its firmware from
/lib/firmware/intel-ucode, or a synthetic 1.6 MB image when that is absent.

${SIM_OPTIONS_HELP}
output:
      --json FILE           the whole result as JSON (schema ucode-staging/result@1; '-' for stdout)
      --trace FILE          Chrome trace events (open in https://ui.perfetto.dev)
      --mmiotrace FILE      the mailbox traffic in Linux mmiotrace format
      --report FILE         a self-contained HTML report with a timeline
  -q, --quiet               print only the summary (no kernel log)
  -h, --help

exit status: 0 the load completed as the policy expects, 1 it failed, aborted,
hung or panicked, 2 bad usage or input.
`;

export const simulateCommand: Command = async (argv, io) => {
  const { values } = parseArgsOrUsage(argv, {
    ...SIM_OPTIONS,
    json: { type: 'string' },
    trace: { type: 'string' },
    mmiotrace: { type: 'string' },
    report: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const { options, imageNote, inputs } = await resolveSimOptions(values as SimValues, io.env);
  // Every output checked before the run: a long run never ends in exit 2 on a bad path.
  const plan = planOutputs(
    [
      { flag: '--json', path: values.json },
      { flag: '--trace', path: values.trace },
      { flag: '--mmiotrace', path: values.mmiotrace },
      { flag: '--report', path: values.report },
    ],
    inputs,
    io,
  );
  let progress: Progress | undefined;
  const result = runSimulation({
    ...options,
    mmioTrace: values.mmiotrace !== undefined,
    onStagingProgress: (done, planned) => {
      if (planned < 8) return;
      progress ??= new Progress(io, planned, 'staging');
      progress.tick(`package passes`);
      if (done === planned) progress.finish();
    },
  });
  progress?.finish();

  if (!plan.usesStdout) {
    io.stdout(
      `ucode-staging: machine ${result.machine.name} (${result.machine.cpus} CPUs), image: ${printable(imageNote)}\n\n`,
    );
    if (!values.quiet) io.stdout(`${result.dmesg}\n`);
    io.stdout(formatSummary(result));
  }
  await writeOutputs(io, result, plan);
  return exitCodeFor(result);
};

export function runSimulation(options: Parameters<typeof simulate>[0]): SimulationResult {
  return asUsage(() => simulate(options));
}

async function writeOutputs(io: CliIo, result: SimulationResult, plan: OutputPlan): Promise<void> {
  await plan.write('--json', `${resultJson(result)}\n`);
  await plan.write('--trace', chromeTraceJson(result));
  if (plan.has('--mmiotrace')) {
    // About 60 bytes a line; the chunks are written as they come, never joined.
    plan.estimate('--mmiotrace', (result.mmio?.length ?? 0) * 60);
    await plan.write('--mmiotrace', mmiotraceChunks(result));
  }
  await plan.write('--report', renderReport({ results: [result] }));
  for (const o of plan.outputs) if (o.kind !== 'stdout') io.stderr(`wrote ${printable(o.path)}\n`);
}

export function exitCodeFor(result: SimulationResult): number {
  return result.outcome === 'updated' ? 0 : 1;
}

type ParsedArgs<O extends NonNullable<ParseArgsConfig['options']>, P extends boolean> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: P; strict: true }>
>;

/** parseArgs with its errors turned into usage errors (exit 2, one line). */
export function parseArgsOrUsage<const O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
): ParsedArgs<O, false> {
  return usageOnError(() => parseArgs({ args: argv, options, allowPositionals: false, strict: true }));
}

/** The same, for a command that also takes operands (file names). */
export function parseArgsWithPositionals<const O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
): ParsedArgs<O, true> {
  return usageOnError(() => parseArgs({ args: argv, options, allowPositionals: true, strict: true }));
}

function usageOnError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!.replace(/\. To specify .*$/s, ''));
  }
}
