import { hex } from '../format/hex.js';
import type { CostModelOverrides, MachineSpecInput } from '../platform/machine-spec.js';
import { buildTopology } from '../platform/topology.js';
import type { HostFacts } from './host-facts.js';
import type { StagingFacts } from './staging-facts.js';

const HZ_CHOICES = [100, 250, 300, 1000] as const;
type Hz = (typeof HZ_CHOICES)[number];
const DEFAULT_MAILBOX = { base: 0xfed2_0000, stride: 0x1000 };

export interface DerivedMachine {
  machine: MachineSpecInput;
  /** Where the machine is not this host exactly, or a value was not known. */
  approximations: string[];
  /** HZ and kernel generation as they came from the host ('from the kernel config' ...). */
  hzSource: string;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/**
 * The machine file for this host (src/platform/machine-spec.ts): its topology and numbering,
 * CPU, revision, staging bits, mailboxes, offline CPUs and kernel timing. What the schema
 * cannot say exactly is approximated and listed.
 */
export function deriveMachine(
  facts: HostFacts,
  staging: StagingFacts,
  opts: { cost?: CostModelOverrides } = {},
): DerivedMachine {
  const { topology, identity, loader } = facts;
  const approximations = [...topology.approximations];

  const packages = clamp(topology.packages, 1, 64);
  const threads = ([1, 2, 4] as const).find((t) => t >= topology.threadsPerCore) ?? 4;
  if (threads !== topology.threadsPerCore)
    approximations.push(`${topology.threadsPerCore} threads per core modelled as ${threads}`);
  const cores = clamp(topology.coresPerPackage, 1, Math.min(1024, Math.floor(65_536 / (packages * threads))));
  if (packages !== topology.packages || cores !== topology.coresPerPackage)
    approximations.push(`modelled as ${packages} packages x ${cores} cores (the model's limits)`);
  const cpus = packages * cores * threads;

  const signature = identity.signature ?? 0;
  if (identity.signature === null) approximations.push('CPU signature unknown: 0 used');
  const platformId = facts.platformId.value ?? 0;
  if (facts.platformId.value === null) approximations.push('platform id unknown: 0 assumed');
  const revisions = new Set(
    topology.cpus.filter((c) => c.online && c.revision !== null).map((c) => c.revision),
  );
  const initialRevision = facts.bootRevision ?? 0;
  if (facts.bootRevision === null) approximations.push('CPU 0 revision unknown: 0 used');
  if (revisions.size > 1)
    approximations.push(
      `CPUs run ${revisions.size} different revisions; every core modelled at CPU 0's ${hex(initialRevision)}`,
    );

  const stagingBits = {
    archCapMcuEnum: staging.archCapMcuEnum ?? false,
    mcuStaging: staging.mcuStaging ?? false,
  };
  if (staging.support === 'unknown')
    approximations.push('staging enumeration unknown (MSRs unreadable): written as not enumerated');

  const mailbox = mailboxLayout(staging, packages, approximations);

  const offlineCpus = topology.offline.filter((c) => c < cpus);
  if (offlineCpus.length < topology.offline.length)
    approximations.push('offline CPUs beyond the modelled CPUs are left out');
  if (topology.offline.length > 0 && !topology.exact)
    approximations.push("offline CPUs placed by the model's numbering (the kernel hides their topology)");

  const { cost, hzSource } = kernelCost(facts, opts.cost, approximations);
  const description = sanitize(
    `Derived by ucode-staging probe from ${identity.vendor ?? 'an unknown vendor'} ${identity.fms ?? '??-??-??'}` +
      `${identity.modelName ? ` (${identity.modelName})` : ''}, kernel ${loader.kernel?.release ?? 'unknown'}`,
  );
  const machine: MachineSpecInput = {
    name: 'probed-host',
    description,
    packages,
    coresPerPackage: cores,
    threadsPerCore: threads,
    signature,
    platformId,
    initialRevision,
    staging: stagingBits,
    mailbox,
    numbering: topology.modelNumbering,
    offlineCpus,
    cost,
  };
  return { machine, approximations, hzSource };
}

/** Base and stride from the mailbox addresses when they are evenly spaced, else the model's default. */
function mailboxLayout(
  staging: StagingFacts,
  packages: number,
  approximations: string[],
): { base: number; stride: number } {
  const known = staging.mailboxes.filter((m) => m.address !== null);
  if (known.length === 0) return DEFAULT_MAILBOX;
  const first = known.find((m) => m.pkg === 0);
  if (known.length === packages && first !== undefined && first.address! >= 0x1000) {
    const stride = packages === 1 ? DEFAULT_MAILBOX.stride : known[1]!.address! - first.address!;
    const even = known.every((m) => m.address === first.address! + m.pkg * stride);
    if (even && stride >= 16) return { base: first.address!, stride };
  }
  approximations.push(
    `mailbox addresses ${known.map((m) => hex(m.address!)).join(', ')} are not base + package x stride: the default layout is used`,
  );
  return DEFAULT_MAILBOX;
}

function kernelCost(
  facts: HostFacts,
  overrides: CostModelOverrides | undefined,
  approximations: string[],
): { cost: CostModelOverrides; hzSource: string } {
  const { loader } = facts;
  const cost: CostModelOverrides = {};
  let hzSource: string;
  if (overrides?.hz !== undefined) hzSource = `HZ ${overrides.hz} (given)`;
  else if (loader.hz !== null && (HZ_CHOICES as readonly number[]).includes(loader.hz)) {
    cost.hz = loader.hz as Hz;
    hzSource = `HZ ${loader.hz} (kernel config)`;
  } else {
    hzSource = 'HZ 1000 (the model default: the kernel config was not readable)';
    if (loader.hz !== null) {
      hzSource = `HZ 1000 (the model default: CONFIG_HZ=${loader.hz} is not modelled)`;
      approximations.push(`CONFIG_HZ=${loader.hz} modelled as 1000`);
    }
  }
  if (loader.kernel !== null)
    cost.kernelGeneration =
      loader.kernel.major > 6 || (loader.kernel.major === 6 && loader.kernel.minor >= 12)
        ? '6.12+'
        : 'pre-6.12';
  return { cost: { ...cost, ...overrides }, hzSource };
}

/**
 * The offline CPUs of the derived machine that are SMT primary threads in its numbering: the
 * kernel aborts a late load for any of them ("CPU %u not online"), while offline siblings are
 * allowed.
 */
export function offlinePrimaryThreads(machine: MachineSpecInput): number[] {
  const offline = machine.offlineCpus ?? [];
  if (offline.length === 0) return [];
  const topo = buildTopology({
    packages: machine.packages,
    coresPerPackage: machine.coresPerPackage,
    threadsPerCore: machine.threadsPerCore,
    numbering: {
      packages: machine.numbering?.packages ?? 'package-major',
      smt: machine.numbering?.smt ?? 'last',
    },
  });
  return offline.filter((cpu) => cpu < topo.cpus && topo.isPrimary[cpu] === 1);
}

/** Text from a host file made safe for the machine schema's name rules (no control characters). */
function sanitize(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: exactly these are removed
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 2000);
}
