import type { MachineSpec } from './machine-spec.js';

/**
 * CPU numbering and the x86 topology Linux derives from APIC ids, as flat
 * typed arrays indexed by CPU number (large machines have tens of thousands).
 */
export interface Topology {
  cpus: number;
  packages: number;
  threadsPerCore: number;
  apicId: Uint32Array;
  /** Logical package id (packages are numbered by APIC id, as Linux does). */
  packageOf: Uint16Array;
  /** Global core index: package * coresPerPackage + core. */
  coreOf: Uint32Array;
  threadOf: Uint8Array;
  /** `apicid & (threads_per_core - 1) == 0`: the cpu_primary_thread_mask. */
  isPrimary: Uint8Array;
  /** CPUs of each global core, in CPU-number order. */
  coreCpus: (readonly number[])[];
}

export function buildTopology(
  m: Pick<MachineSpec, 'packages' | 'coresPerPackage' | 'threadsPerCore' | 'numbering'>,
): Topology {
  const { packages, coresPerPackage: cores, threadsPerCore: threads } = m;
  const n = packages * cores * threads;
  const coreCount = packages * cores;
  const smtBits = Math.ceil(Math.log2(threads));
  const coreBits = Math.ceil(Math.log2(cores));
  const apicId = new Uint32Array(n);
  const packageOf = new Uint16Array(n);
  const coreOf = new Uint32Array(n);
  const threadOf = new Uint8Array(n);
  const isPrimary = new Uint8Array(n);
  /** coreThreadCpu[core * threads + thread]: the CPU number of each thread. */
  const coreThreadCpu = new Uint32Array(n);
  const packageMajor = m.numbering.packages === 'package-major';
  const smtLast = m.numbering.smt === 'last';
  // CPUs are numbered by walking the cores in `k` order (package-major or
  // interleaved), the threads either outermost (SMT last) or innermost (adjacent).
  for (let cpu = 0; cpu < n; cpu++) {
    const k = smtLast ? cpu % coreCount : (cpu / threads) | 0;
    const thread = smtLast ? (cpu / coreCount) | 0 : cpu % threads;
    const pkg = packageMajor ? (k / cores) | 0 : k % packages;
    const core = packageMajor ? k % cores : (k / packages) | 0;
    const apic = (pkg << (coreBits + smtBits)) | (core << smtBits) | thread;
    const globalCore = pkg * cores + core;
    apicId[cpu] = apic;
    packageOf[cpu] = pkg;
    coreOf[cpu] = globalCore;
    threadOf[cpu] = thread;
    isPrimary[cpu] = (apic & (threads - 1)) === 0 ? 1 : 0;
    coreThreadCpu[globalCore * threads + thread] = cpu;
  }
  // Each core's CPUs in CPU-number order (thread order), as small exact-size
  // arrays of numbers: a typed array per core costs three times the memory, and
  // an array grown by push() keeps spare capacity (32,768 cores on large machines).
  const coreCpus: number[][] = new Array(coreCount);
  for (let c = 0, i = 0; c < coreCount; c++, i += threads) {
    if (threads === 2) coreCpus[c] = [coreThreadCpu[i]!, coreThreadCpu[i + 1]!];
    else if (threads === 1) coreCpus[c] = [coreThreadCpu[i]!];
    else coreCpus[c] = Array.from(coreThreadCpu.subarray(i, i + threads));
  }
  return {
    cpus: n,
    packages,
    threadsPerCore: threads,
    apicId,
    packageOf,
    coreOf,
    threadOf,
    isPrimary,
    coreCpus,
  };
}
