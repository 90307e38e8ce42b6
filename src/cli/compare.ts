import {
  compare,
  compareJson,
  compareSucceeded,
  formatCompareTable,
  HZ_VALUES,
  KERNEL_GENERATIONS,
  type MachineInput,
  oneOf,
  POLLS,
  parseProfile,
  parseSize,
  quoted,
  renderReport,
  SWEEP_KEYS,
  type SweepAxis,
  type SweepKey,
} from '../index.js';
import { paint } from './color.js';
import { COMPARE } from './commands.js';
import { type Command, printable, UsageError } from './io.js';
import { planOutputs } from './output-plan.js';
import { Progress } from './progress.js';
import { asUsage, loadMachine, resolveSimOptions, type SimValues } from './sim-options.js';
import { helpText, parseCommand } from './spec.js';

export const compareCommand: Command = async (argv, io) => {
  const values = parseCommand(COMPARE, argv).values as SimValues & {
    sweep?: string[];
    json?: string;
    report?: string;
  };
  if (values.help) {
    io.stdout(helpText(COMPARE));
    return 0;
  }
  const sweep = await Promise.all((values.sweep ?? []).map(parseSweep));
  const machines = sweep.flatMap((a) => (a.key === 'machine' ? [...a.values] : []));
  const resolved = await resolveSimOptions(values, io.env, machines);
  const plan = planOutputs(
    [
      { flag: '--json', path: values.json },
      { flag: '--report', path: values.report },
    ],
    resolved.inputs,
    io,
  );
  const { options } = resolved;
  // Sizes are synthetic images: a size sweep replaces whatever image the flags chose.
  const imageNote = sweep.some((a) => a.key === 'image-size') ? 'synthetic' : resolved.imageNote;
  const planned = sweep.reduce((n, a) => n * a.values.length, 1) * 2;
  const progress = new Progress(io, planned, 'compare');
  const report = asUsage(() =>
    compare(options, { sweep, onRun: (_done, _planned, label) => progress.tick(label) }),
  );
  progress.finish();

  if (!plan.usesStdout) {
    const first = report.kept[0]!.on;
    const machines = new Set(report.points.map((p) => p.machine)).size;
    const machine =
      machines > 1
        ? `${machines} machines (per point below)`
        : `machine ${first.machine.name} (${first.machine.cpus} CPUs)`;
    io.stdout(`ucode-staging compare: ${machine}, image: ${imageNote}\n\n`);
    io.stdout(paint(formatCompareTable(report.points), io.color));
  }
  await plan.write('--json', () => `${compareJson(report)}\n`);
  if (plan.has('--report')) {
    const results = report.kept.flatMap((k) => [k.off, k.on]);
    const labels = report.kept.flatMap((k) => [
      `${k.label} staging off`.trim(),
      `${k.label} staging ${k.onPolicy}`.trim(),
    ]);
    await plan.write('--report', renderReport({ results, labels, title: 'ucode-staging compare' }));
  }
  for (const o of plan.outputs) if (o.kind !== 'stdout') io.stderr(`wrote ${printable(o.path)}\n`);
  return compareSucceeded(report) ? 0 : 1;
};

/** `KEY=V1,V2,...` (profiles, which hold commas, are separated by ';'). */
async function parseSweep(text: string): Promise<SweepAxis> {
  const m = /^([a-z-]+)=(.+)$/.exec(text);
  if (!m || !(SWEEP_KEYS as readonly string[]).includes(m[1]!)) {
    throw new UsageError(
      `bad --sweep ${quoted(text)}: expected KEY=V1,V2,... with KEY one of ${SWEEP_KEYS.join(', ')}`,
    );
  }
  const key = m[1] as SweepKey;
  const sep = key === 'profile' || m[2]!.includes(';') ? ';' : ',';
  const labels = m[2]!.split(sep).map((s) => s.trim());
  if (labels.some((l) => l === ''))
    throw new UsageError(`bad --sweep ${quoted(text)}: an empty value (separate values with '${sep}')`);
  const flag = `--sweep ${key}`;
  switch (key) {
    case 'image-size':
      return { key, labels, values: asUsage(() => labels.map((l) => parseSize(flag, l))) };
    case 'machine': {
      const values: MachineInput[] = [];
      for (const l of labels) values.push((await loadMachine(l))!);
      return { key, labels, values };
    }
    case 'hz':
      return { key, labels, values: asUsage(() => labels.map((l) => oneOf(flag, l, HZ_VALUES))) };
    case 'kernel':
      return { key, labels, values: asUsage(() => labels.map((l) => oneOf(flag, l, KERNEL_GENERATIONS))) };
    case 'profile':
      return { key, labels, values: asUsage(() => labels.map((l) => parseProfile(l, flag))) };
    case 'poll':
      return { key, labels, values: asUsage(() => labels.map((l) => oneOf(flag, l, POLLS))) };
  }
}
