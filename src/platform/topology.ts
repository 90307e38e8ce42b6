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
  const smtBits = Math.ceil(Math.log2(threads));
  const coreBits = Math.ceil(Math.log2(cores));
  const topo: Topology = {
    cpus: n,
    packages,
    threadsPerCore: threads,
    apicId: new Uint32Array(n),
    packageOf: new Uint16Array(n),
    coreOf: new Uint32Array(n),
    threadOf: new Uint8Array(n),
    isPrimary: new Uint8Array(n),
    coreCpus: [],
  };
  let cpu = 0;
  const place = (pkg: number, core: number, thread: number): void => {
    const apic = (pkg << (coreBits + smtBits)) | (core << smtBits) | thread;
    topo.apicId[cpu] = apic;
    topo.packageOf[cpu] = pkg;
    topo.coreOf[cpu] = pkg * cores + core;
    topo.threadOf[cpu] = thread;
    topo.isPrimary[cpu] = (apic & (threads - 1)) === 0 ? 1 : 0;
    cpu++;
  };
  const forEachCore = (visit: (pkg: number, core: number) => void): void => {
    if (m.numbering.packages === 'package-major') {
      for (let p = 0; p < packages; p++) for (let c = 0; c < cores; c++) visit(p, c);
    } else {
      for (let c = 0; c < cores; c++) for (let p = 0; p < packages; p++) visit(p, c);
    }
  };
  if (m.numbering.smt === 'last') {
    for (let t = 0; t < threads; t++) forEachCore((p, c) => place(p, c, t));
  } else {
    forEachCore((p, c) => {
      for (let t = 0; t < threads; t++) place(p, c, t);
    });
  }
  // Each core's CPUs in CPU-number order, as small arrays of numbers (a typed
  // array per core costs three times the memory: 32,768 cores on large machines).
  const coreCpus: number[][] = new Array(packages * cores);
  for (let c = 0; c < coreCpus.length; c++) coreCpus[c] = [];
  for (let i = 0; i < n; i++) coreCpus[topo.coreOf[i]!]!.push(i);
  topo.coreCpus = coreCpus;
  return topo;
}
