import {
  chromeTraceJson,
  mmiotraceChunks,
  type ResultPart,
  renderReport,
  resultJson,
  type SimulationResult,
} from '../index.js';
import { type CliIo, printable } from './io.js';
import type { OutputPlan } from './output-plan.js';

/** simulate's output files (--json, --trace, --mmiotrace, --report), each made only when asked for. */
export async function writeOutputs(
  io: CliIo,
  result: SimulationResult,
  plan: OutputPlan,
  omit: readonly ResultPart[],
): Promise<void> {
  await plan.write('--json', () => `${resultJson(result, { omit })}\n`);
  await plan.write('--trace', () => chromeTraceJson(result));
  if (plan.has('--mmiotrace')) {
    // About 60 bytes a line; the chunks are written as they come, never joined.
    plan.estimate('--mmiotrace', (result.mmio?.length ?? 0) * 60);
    await plan.write('--mmiotrace', mmiotraceChunks(result));
  }
  await plan.write('--report', () => renderReport({ results: [result] }));
  for (const o of plan.outputs) if (o.kind !== 'stdout') io.stderr(`wrote ${printable(o.path)}\n`);
}
