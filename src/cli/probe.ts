import {
  type CostModelOverrides,
  collectHostFiles,
  formatProbeReport,
  HZ_VALUES,
  oneOf,
  parseCost,
  probeHost,
  probeReportJson,
  SimulationInputError,
} from '../index.js';
import { paint } from './color.js';
import { PROBE } from './commands.js';
import { type Command, printable, UsageError } from './io.js';
import { planOutputs } from './output-plan.js';
import { checkRoot, FsHostReader, saveHostFiles } from './probe-host-reader.js';
import { helpText, parseCommand } from './spec.js';

function costOf(values: {
  cost?: string[] | undefined;
  hz?: string | undefined;
}): CostModelOverrides | undefined {
  try {
    const cost: CostModelOverrides = {};
    for (const kv of values.cost ?? []) Object.assign(cost, parseCost(kv));
    if (values.hz !== undefined) cost.hz = oneOf('--hz', values.hz, HZ_VALUES);
    return Object.keys(cost).length ? cost : undefined;
  } catch (err) {
    if (err instanceof SimulationInputError) throw new UsageError(err.message);
    throw err;
  }
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === '') throw new UsageError(`${flag} expects a value, got an empty one`);
  return value;
}

export const probeCommand: Command = async (argv, io) => {
  const values = parseCommand(PROBE, argv).values as {
    root?: string;
    firmware?: string;
    save?: string;
    json?: boolean;
    'machine-out'?: string;
    cost?: string[];
    hz?: string;
    help?: boolean;
  };
  if (values.help) {
    io.stdout(helpText(PROBE));
    return 0;
  }
  const root = nonEmpty('--root', values.root) ?? '/';
  const firmwareDir = nonEmpty('--firmware', values.firmware);
  const save = nonEmpty('--save', values.save);
  const machineOut = nonEmpty('--machine-out', values['machine-out']);
  const cost = costOf(values);
  checkRoot(root);
  if (firmwareDir !== undefined) checkRoot(firmwareDir);
  // Checked before anything is read, with the rules of every output (output-plan.ts).
  const plan = planOutputs([{ flag: '--machine-out', path: machineOut }], [], io);

  const files = collectHostFiles(new FsHostReader(root, firmwareDir), {
    firmwareFolderOnly: firmwareDir !== undefined,
  });
  const nothing = [
    '/proc/cpuinfo',
    '/sys/devices/system/cpu/online',
    '/sys/devices/system/cpu/present',
  ].every((p) => files.get(p)?.kind !== 'file');
  if (nothing)
    throw new UsageError(
      `nothing to probe under '${root}': neither /proc/cpuinfo nor /sys/devices/system/cpu can be read`,
    );

  const { report, machine } = probeHost(files, {
    root,
    ...(firmwareDir !== undefined ? { firmwareDir } : {}),
    ...(cost !== undefined ? { cost } : {}),
  });
  io.stdout(values.json ? `${probeReportJson(report)}\n` : paint(formatProbeReport(report), io.color));
  if (save !== undefined) {
    const count = saveHostFiles(files, save);
    io.stderr(`saved ${count} files under ${save} (replay: ucode-staging probe --root ${save})\n`);
  }
  if (machineOut !== undefined) {
    if (machine === null)
      io.stderr('no machine file written: the model needs an Intel CPU and a readable topology\n');
    else {
      await plan.write('--machine-out', `${JSON.stringify(machine, null, 2)}\n`);
      if (!plan.toStdout('--machine-out')) io.stderr(`wrote ${printable(machineOut)}\n`);
    }
  }
  return report.exitStatus;
};
