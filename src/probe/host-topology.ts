import type { MachineSpec } from '../platform/machine-spec.js';
import { buildTopology } from '../platform/topology.js';
import type { CpuIdentity } from './cpu-identity.js';
import { CPU_SYSFS, entryProblem, entryText, type HostFiles } from './host-files.js';
import { isProblem, parseCpuList, parseSysfsNumber } from './parse-host-text.js';

/** One CPU as sysfs and /proc/cpuinfo show it. Offline CPUs have no topology or microcode folder. */
export interface HostCpu {
  cpu: number;
  online: boolean;
  physicalPackageId: number | null;
  dieId: number | null;
  coreId: number | null;
  /** thread_siblings_list: the online CPUs of this CPU's core. */
  siblings: number[] | null;
  /** cpuN/microcode/version, else the `microcode` line of /proc/cpuinfo. */
  revision: number | null;
  /** cpuN/microcode/processor_flags: 1 << platform id. */
  processorFlags: number | null;
  apicId: number | null;
  /** Logical package (0..packages-1, by physical id), null when unknown. */
  pkg: number | null;
  /** Position in its core (0 = the SMT primary thread), null when unknown. */
  thread: number | null;
}

export type PackageOrder = 'package-major' | 'interleaved' | 'single-package' | 'irregular';
export type SmtOrder = 'last' | 'adjacent' | 'no-smt' | 'irregular' | 'unknown';

export interface HostTopology {
  /** Every present CPU (online or not), by number. */
  cpus: HostCpu[];
  lists: { possible: number[] | null; present: number[] | null; online: number[] | null };
  offline: number[];
  packages: number;
  coresPerPackage: number;
  threadsPerCore: number;
  /** The order the kernel numbers CPUs in, as seen. */
  order: { packages: PackageOrder; smt: SmtOrder };
  /** The machine-file numbering that reproduces the host, or the closest one. */
  modelNumbering: MachineSpec['numbering'];
  /** The model's machine (packages x cores x threads and numbering) is this host exactly. */
  exact: boolean;
  /** Why it is not exact. */
  approximations: string[];
  /** Files that were missing or held garbage. */
  problems: string[];
}

/** Files read from each cpuN/topology/. */
export const TOPOLOGY_FILES = [
  'physical_package_id',
  'die_id',
  'core_id',
  'thread_siblings_list',
  'core_cpus_list',
] as const;
export const MICROCODE_FILES = ['version', 'processor_flags'] as const;
export const CPU_LIST_FILES = ['possible', 'present', 'online', 'offline'] as const;
/** on, off, forceoff, notsupported or notimplemented: 'off' means SMT siblings exist but are offline. */
export const SMT_CONTROL = `${CPU_SYSFS}/smt/control`;

/** At most this many CPUs are read (the model's limit). */
export const MAX_PROBED_CPUS = 65_536;

function cpuList(files: HostFiles, name: string, problems: string[]): number[] | null {
  const path = `${CPU_SYSFS}/${name}`;
  const entry = files.get(path);
  const text = entryText(entry);
  if (text === undefined) {
    if (entry !== undefined && entry.kind !== 'missing') problems.push(`${path} ${entryProblem(entry)}`);
    return null;
  }
  const list = parseCpuList(text);
  if (isProblem(list)) {
    problems.push(`${path}: ${list.problem}`);
    return null;
  }
  // CPU 0 is always present and online: an empty list here is a broken file, not a fact.
  if (list.length === 0 && name !== 'offline') {
    problems.push(`${path}: lists no CPU`);
    return null;
  }
  return list;
}

/** The present CPUs and which are online, from the sysfs lists (cpuinfo as the last resort). */
export function readCpuLists(
  files: HostFiles,
  identity: CpuIdentity,
  problems: string[] = [],
): { lists: HostTopology['lists']; present: number[]; online: Set<number> } {
  const possible = cpuList(files, 'possible', problems);
  const present = cpuList(files, 'present', problems);
  let online = cpuList(files, 'online', problems);
  const offlineList = cpuList(files, 'offline', problems);
  const fromCpuinfo = [...identity.perCpu.keys()].sort((a, b) => a - b);
  if (online === null && present !== null && offlineList !== null) {
    const off = new Set(offlineList);
    online = present.filter((c) => !off.has(c));
  }
  const onlineSet = new Set(online ?? fromCpuinfo);
  let all = present ?? online ?? fromCpuinfo;
  // A CPU online but not in `present` (garbage in one list): count it anyway.
  all = [...new Set([...all, ...onlineSet])].sort((a, b) => a - b).slice(0, MAX_PROBED_CPUS);
  return { lists: { possible, present, online }, present: all, online: onlineSet };
}

function cpuNumber(files: HostFiles, path: string, problems: string[], hex = false): number | null {
  const entry = files.get(path);
  const text = entryText(entry);
  if (text === undefined) return null;
  const n = parseSysfsNumber(text, { hex });
  if (isProblem(n)) {
    problems.push(`${path}: ${n.problem}`);
    return null;
  }
  return n;
}

function readHostCpu(
  files: HostFiles,
  cpu: number,
  online: boolean,
  identity: CpuIdentity,
  problems: string[],
): HostCpu {
  const dir = `${CPU_SYSFS}/cpu${cpu}`;
  const siblingsPath = `${dir}/topology/thread_siblings_list`;
  const siblingsText = entryText(files.get(siblingsPath));
  let siblings: number[] | null = null;
  if (siblingsText !== undefined) {
    const parsed = parseCpuList(siblingsText);
    if (isProblem(parsed)) problems.push(`${siblingsPath}: ${parsed.problem}`);
    else if (!parsed.includes(cpu)) problems.push(`${siblingsPath}: does not list CPU ${cpu} itself`);
    else siblings = parsed;
  }
  const cpuinfo = identity.perCpu.get(cpu);
  const sysfsRevision = cpuNumber(files, `${dir}/microcode/version`, problems, true);
  return {
    cpu,
    online,
    physicalPackageId: cpuNumber(files, `${dir}/topology/physical_package_id`, problems),
    dieId: cpuNumber(files, `${dir}/topology/die_id`, problems),
    coreId: cpuNumber(files, `${dir}/topology/core_id`, problems),
    siblings,
    revision: sysfsRevision ?? cpuinfo?.microcode ?? null,
    processorFlags: cpuNumber(files, `${dir}/microcode/processor_flags`, problems, true),
    apicId: cpuinfo?.apicId ?? null,
    pkg: null,
    thread: null,
  };
}

export function readHostTopology(files: HostFiles, identity: CpuIdentity): HostTopology {
  const problems: string[] = [];
  const approximations: string[] = [];
  const { lists, present, online } = readCpuLists(files, identity, problems);
  const cpus = present.map((cpu) => readHostCpu(files, cpu, online.has(cpu), identity, problems));
  const live = cpus.filter((c) => c.online);

  // Logical packages: Linux numbers them by APIC id, which follows the physical id.
  const physicalIds = [...new Set(live.map((c) => c.physicalPackageId).filter((p) => p !== null))].sort(
    (a, b) => a - b,
  );
  if (physicalIds.length === 0 && live.length > 0)
    approximations.push('no physical_package_id could be read: one package assumed');
  for (const c of live) {
    c.pkg =
      c.physicalPackageId === null
        ? physicalIds.length === 0
          ? 0
          : null
        : physicalIds.indexOf(c.physicalPackageId);
  }
  const packages = Math.max(1, physicalIds.length);

  // Threads per core: the largest sibling group; the position in it gives the primary thread.
  const seenThreads = Math.max(1, ...live.map((c) => c.siblings?.length ?? 1));
  const byNumber = new Map(cpus.map((c) => [c.cpu, c]));
  for (const c of live) c.thread = threadRank(c, byNumber, seenThreads);

  // Cores: distinct (die, core) per package.
  const coresByPackage = new Map<number, Set<string>>();
  for (const c of live) {
    if (c.pkg === null) continue;
    const set = coresByPackage.get(c.pkg) ?? new Set();
    set.add(`${c.dieId ?? 0}:${c.coreId ?? `cpu${Math.min(...(c.siblings ?? [c.cpu]))}`}`);
    coresByPackage.set(c.pkg, set);
  }
  const coreCounts = [...coresByPackage.values()].map((s) => s.size);
  const seenCores = Math.max(1, ...coreCounts);
  if (new Set(coreCounts).size > 1)
    approximations.push(
      `packages have different core counts (${coreCounts.join(', ')}): the largest is used`,
    );
  const sizes = new Set(live.map((c) => c.siblings?.length ?? 1));
  if (sizes.size > 1)
    approximations.push(
      `cores have different thread counts (${[...sizes].sort().join(', ')}; hybrid cores or offline siblings)`,
    );

  const smtControl = entryText(files.get(SMT_CONTROL))?.trim();
  // Siblings all offline (nosmt, smt/control off) look like single-thread cores: the kernel still
  // knows them as SMT siblings, and so must the model.
  const hiddenSmt =
    seenThreads === 1 &&
    live.length < present.length &&
    (smtControl === 'off' || smtControl === 'forceoff' || (smtControl === undefined && allEvenApicIds(live)));
  const geometry = fitGeometry(
    present.length,
    packages,
    seenCores,
    seenThreads,
    hiddenSmt ? 2 : seenThreads,
    approximations,
  );
  const order = seenOrder(live, packages, geometry.threadsPerCore);
  const { numbering, matches } = closestNumbering(live, { packages, ...geometry });
  if (matches < live.length)
    approximations.push(
      `the CPU numbering matches no regular pattern exactly (${matches} of ${live.length} online CPUs placed alike)`,
    );

  const offline = cpus.filter((c) => !c.online).map((c) => c.cpu);
  return {
    cpus,
    lists,
    offline,
    packages,
    ...geometry,
    order,
    modelNumbering: numbering,
    exact: approximations.length === 0,
    approximations,
    problems,
  };
}

/** 0 for the primary thread: APIC id with the SMT bits clear when known, else the lowest sibling. */
function threadRank(c: HostCpu, all: ReadonlyMap<number, HostCpu>, threads: number): number | null {
  if (c.siblings === null) return null;
  const members = c.siblings.map((n) => all.get(n) ?? { cpu: n, apicId: null });
  const byApic = members.every((m) => m.apicId !== null);
  const sorted = [...members].sort((a, b) => (byApic ? a.apicId! - b.apicId! : a.cpu - b.cpu));
  if (byApic && c.apicId !== null) {
    const smtMask = (1 << Math.ceil(Math.log2(threads))) - 1;
    if ((c.apicId & smtMask) === 0) return 0;
  }
  return sorted.findIndex((m) => m.cpu === c.cpu);
}

/**
 * Packages x cores x threads for the present CPUs. Offline CPUs hide their topology, so the
 * counts seen on online CPUs are stretched to cover them when the numbers divide evenly.
 */
function fitGeometry(
  presentCount: number,
  packages: number,
  seenCores: number,
  seenThreads: number,
  likelyThreads: number,
  approximations: string[],
): { coresPerPackage: number; threadsPerCore: number } {
  const threadChoices = [...new Set([likelyThreads, seenThreads, 2, 4, 1])].filter((t) => t >= seenThreads);
  for (const threads of threadChoices) {
    const cores = presentCount / (packages * threads);
    if (Number.isInteger(cores) && cores >= seenCores) {
      if (threads !== seenThreads)
        approximations.push(
          `${threads} threads per core assumed: ${presentCount} present CPUs, but online cores show at most ${seenThreads}`,
        );
      return { coresPerPackage: cores, threadsPerCore: threads };
    }
  }
  approximations.push(
    `${presentCount} present CPUs are not ${packages} equal packages of ${seenCores} cores x ${seenThreads} threads`,
  );
  return { coresPerPackage: seenCores, threadsPerCore: seenThreads };
}

function allEvenApicIds(live: readonly HostCpu[]): boolean {
  return live.length > 0 && live.every((c) => c.apicId !== null && c.apicId % 2 === 0);
}

/** The numbering as seen on the online CPUs, described in the model's words where it fits. */
function seenOrder(live: readonly HostCpu[], packages: number, threads: number): HostTopology['order'] {
  const primaries = live.filter((c) => c.thread === 0 && c.pkg !== null);
  let pkgOrder: PackageOrder = 'single-package';
  if (packages > 1) {
    let changes = 0;
    for (let i = 1; i < primaries.length; i++) if (primaries[i]!.pkg !== primaries[i - 1]!.pkg) changes++;
    pkgOrder =
      changes === packages - 1
        ? 'package-major'
        : changes === primaries.length - 1
          ? 'interleaved'
          : 'irregular';
  }
  let smt: SmtOrder = 'no-smt';
  if (threads > 1) {
    const withSiblings = live.filter((c) => c.siblings !== null && c.siblings.length > 1);
    const adjacent = withSiblings.every(
      (c) => c.siblings!.at(-1)! - c.siblings![0]! === c.siblings!.length - 1,
    );
    const lastPrimary = Math.max(-1, ...primaries.map((c) => c.cpu));
    const secondaries = live.filter((c) => c.thread !== null && c.thread > 0);
    if (withSiblings.length === 0) smt = 'unknown';
    else if (adjacent) smt = 'adjacent';
    else if (secondaries.every((c) => c.cpu > lastPrimary)) smt = 'last';
    else smt = 'irregular';
  }
  return { packages: pkgOrder, smt };
}

const NUMBERINGS: MachineSpec['numbering'][] = [
  { packages: 'package-major', smt: 'last' },
  { packages: 'package-major', smt: 'adjacent' },
  { packages: 'interleaved', smt: 'last' },
  { packages: 'interleaved', smt: 'adjacent' },
];

/** The model numbering that places the most online CPUs in the same package and thread position. */
function closestNumbering(
  live: readonly HostCpu[],
  m: { packages: number; coresPerPackage: number; threadsPerCore: number },
): { numbering: MachineSpec['numbering']; matches: number } {
  const modelable =
    [1, 2, 4].includes(m.threadsPerCore) &&
    m.packages <= 64 &&
    m.coresPerPackage <= 1024 &&
    m.packages * m.coresPerPackage * m.threadsPerCore <= MAX_PROBED_CPUS;
  let best = { numbering: NUMBERINGS[0]!, matches: modelable ? -1 : 0 };
  if (!modelable) return best;
  for (const numbering of NUMBERINGS) {
    const topo = buildTopology({ ...m, threadsPerCore: m.threadsPerCore as 1 | 2 | 4, numbering });
    let matches = 0;
    for (const c of live) {
      if (c.cpu >= topo.cpus) continue;
      if (topo.packageOf[c.cpu] === c.pkg && (topo.threadOf[c.cpu] === 0) === (c.thread === 0)) matches++;
    }
    if (matches > best.matches) best = { numbering, matches };
  }
  return best;
}

/**
 * The kernel's staging walk: SMT primary threads in CPU-number order, a pass each time the
 * package differs from the previous primary's. Returns the CPU and package of each pass.
 */
export function stagingWalk(topology: Pick<HostTopology, 'cpus'>): { cpu: number; pkg: number }[] {
  const passes: { cpu: number; pkg: number }[] = [];
  let previous: number | null = null;
  for (const c of topology.cpus) {
    if (!c.online || c.thread !== 0 || c.pkg === null) continue;
    if (c.pkg === previous) continue;
    previous = c.pkg;
    passes.push({ cpu: c.cpu, pkg: c.pkg });
  }
  return passes;
}
