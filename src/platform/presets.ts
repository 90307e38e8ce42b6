import type { MachineSpecInput } from './machine-spec.js';

/** Named on its own: gnr-2s-interleaved is the same machine, numbered across sockets. */
const GNR_2S: MachineSpecInput = {
  name: 'gnr-2s',
  description:
    '2-socket Granite Rapids-class server (Xeon 6980P-like: 128 cores x 2 threads per socket, 512 CPUs)',
  packages: 2,
  coresPerPackage: 128,
  threadsPerCore: 2,
  signature: 0xa06d1,
  platformId: 0,
  initialRevision: 0x10003a2,
  staging: { archCapMcuEnum: true, mcuStaging: true },
};

/**
 * Built-in machines. Core counts and signatures follow public Intel parts;
 * the staging enumeration bits are ASSUMPTIONS (Intel has not published which
 * parts set them): set on the newest server parts, clear on Sapphire Rapids.
 * Initial revisions are older than the public intel-ucode release so a late
 * load finds something new.
 */
export const PRESETS: Readonly<Record<string, MachineSpecInput>> = {
  'gnr-2s': GNR_2S,
  'srf-2s': {
    name: 'srf-2s',
    description: '2-socket Sierra Forest-class server (Xeon 6780E-like: 144 E-cores, no SMT, 288 CPUs)',
    packages: 2,
    coresPerPackage: 144,
    threadsPerCore: 1,
    signature: 0xa06f3,
    platformId: 0,
    initialRevision: 0x3000341,
    staging: { archCapMcuEnum: true, mcuStaging: true },
  },
  'spr-2s': {
    name: 'spr-2s',
    description:
      '2-socket Sapphire Rapids-class server (Xeon 8480+-like: 56 cores x 2 threads, 224 CPUs); no staging',
    packages: 2,
    coresPerPackage: 56,
    threadsPerCore: 2,
    signature: 0x806f8,
    platformId: 4,
    initialRevision: 0x2c000390,
    staging: { archCapMcuEnum: true, mcuStaging: false },
  },
  'gnr-8s': {
    name: 'gnr-8s',
    description: '8-socket Granite Rapids-class server (86 cores x 2 threads per socket, 1376 CPUs)',
    packages: 8,
    coresPerPackage: 86,
    threadsPerCore: 2,
    signature: 0xa06d1,
    platformId: 0,
    initialRevision: 0x10003a2,
    staging: { archCapMcuEnum: true, mcuStaging: true },
  },
  'gnr-2s-interleaved': {
    ...GNR_2S,
    name: 'gnr-2s-interleaved',
    description:
      'gnr-2s with CPUs numbered across sockets (NUMA node0 = CPUs 0,2,4,...), as many 2-socket BIOSes do',
    numbering: { packages: 'interleaved', smt: 'last' },
  },
  up: {
    name: 'up',
    description:
      'Uniprocessor: one package, one core, one thread (Granite Rapids signature, staging capable)',
    packages: 1,
    coresPerPackage: 1,
    threadsPerCore: 1,
    signature: 0xa06d1,
    platformId: 0,
    initialRevision: 0x10003a2,
    staging: { archCapMcuEnum: true, mcuStaging: true },
  },
};

export const DEFAULT_PRESET = 'gnr-2s';

/**
 * The preset called `name`, or undefined. Only the table's own keys count:
 * `constructor`, `toString` or `__proto__` are not presets.
 */
export function findPreset(name: string): MachineSpecInput | undefined {
  return Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
}
