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
import { writeFileAtomic } from './atomic-write.js';
import { type Command, UsageError } from './io.js';
import { checkRoot, FsHostReader, saveHostFiles } from './probe-host-reader.js';
import { parseArgsOrUsage } from './simulate.js';

const HELP = `usage: ucode-staging probe [options]

What a late load (echo 1 > /sys/devices/system/cpu/microcode/reload) would do on
this host, before anyone runs it: the host, the update the kernel would pick, the
verdict in the kernel's terms, staging, and the model's prediction of how long the
CPUs would stand still. Read-only: no MSR is written, no load is triggered.

It reads /proc/cpuinfo, /proc/cmdline, the kernel release and config, the CPU
folders under /sys/devices/system/cpu, /dev/cpu/N/msr when readable (root and
\`modprobe msr\`; otherwise staging is reported unknown) and the firmware file.

options:
      --root DIR            read every host path under DIR (a tree saved with --save)
      --firmware DIR        the intel-ucode folder to use (default: where the kernel looks)
      --save DIR            copy exactly the files read into DIR (empty or new), for a bug
                            report or a replay with --root
      --json                print the report as JSON (schema ucode-staging/probe@1)
      --machine-out FILE    write the derived machine file (loadable by simulate -m FILE)
      --cost KEY=VALUE      override a cost-model parameter of the prediction, repeatable
      --hz ${HZ_VALUES.join('|')}     the kernel tick rate, when the kernel config cannot be read
  -h, --help

exit status: 0 a late load would update this host safely, 1 it would not (any other
verdict), 2 the probe could not run (bad usage, unreadable root).
`;

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
  const { values } = parseArgsOrUsage(argv, {
    root: { type: 'string' },
    firmware: { type: 'string' },
    save: { type: 'string' },
    json: { type: 'boolean' },
    'machine-out': { type: 'string' },
    cost: { type: 'string', multiple: true },
    hz: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const root = nonEmpty('--root', values.root) ?? '/';
  const firmwareDir = nonEmpty('--firmware', values.firmware);
  const save = nonEmpty('--save', values.save);
  const machineOut = nonEmpty('--machine-out', values['machine-out']);
  const cost = costOf(values);
  checkRoot(root);
  if (firmwareDir !== undefined) checkRoot(firmwareDir);

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
  io.stdout(values.json ? `${probeReportJson(report)}\n` : formatProbeReport(report));
  if (save !== undefined) {
    const count = saveHostFiles(files, save);
    io.stderr(`saved ${count} files under ${save} (replay: ucode-staging probe --root ${save})\n`);
  }
  if (machineOut !== undefined) {
    if (machine === null)
      io.stderr('no machine file written: the model needs an Intel CPU and a readable topology\n');
    else {
      writeFileAtomic(machineOut, `${JSON.stringify(machine, null, 2)}\n`);
      io.stderr(`wrote ${machineOut}\n`);
    }
  }
  return report.exitStatus;
};
