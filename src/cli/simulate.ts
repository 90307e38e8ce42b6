import {
  formatSummary,
  oneOf,
  RESULT_PARTS,
  type ResultPart,
  type SimulationResult,
  simulate,
} from '../index.js';
import { paint } from './color.js';
import { SIMULATE } from './commands.js';
import { type Command, printable } from './io.js';
import { planOutputs } from './output-plan.js';
import { Progress } from './progress.js';
import { asUsage, resolveSimOptions, type SimValues } from './sim-options.js';
import { helpText, parseCommand } from './spec.js';

export const simulateCommand: Command = async (argv, io) => {
  const values = parseCommand(SIMULATE, argv).values as SimValues & {
    json?: string;
    trace?: string;
    mmiotrace?: string;
    report?: string;
    quiet?: boolean;
    'json-omit'?: string;
  };
  if (values.help) {
    io.stdout(helpText(SIMULATE));
    return 0;
  }
  const omit = values['json-omit'] === undefined ? [] : parseOmit(values['json-omit']);
  const { options, imageNote, inputs } = await resolveSimOptions(values, io.env);
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
    // The trace's spans go only into the Chrome trace, the report's timeline and the JSON:
    // recording them for a summary alone cost a first run about a sixth of its time.
    trace:
      values.trace !== undefined ||
      values.report !== undefined ||
      (values.json !== undefined && !omit.includes('trace')),
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
    if (!values.quiet) io.stdout(paint(`${result.dmesg}\n`, io.color));
    io.stdout(formatSummary(result, { color: io.color === true }));
  }
  // The JSON, trace, mmiotrace and report writers load only when one of them was asked for.
  if (plan.outputs.length > 0)
    await (await import('./simulate-outputs.js')).writeOutputs(io, result, plan, omit);
  return exitCodeFor(result);
};

export function runSimulation(options: Parameters<typeof simulate>[0]): SimulationResult {
  return asUsage(() => simulate(options));
}

export function exitCodeFor(result: SimulationResult): number {
  return result.outcome === 'updated' ? 0 : 1;
}

/** --json-omit LIST: parts of the result to leave out of the JSON. */
function parseOmit(text: string): ResultPart[] {
  return asUsage(() => text.split(',').map((part) => oneOf('--json-omit', part.trim(), RESULT_PARTS)));
}
