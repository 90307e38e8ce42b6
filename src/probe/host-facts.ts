import { type CpuIdentity, readCpuIdentity } from './cpu-identity.js';
import { type FirmwareFile, findFirmwareFile, firmwareSearchPaths } from './firmware-search.js';
import type { HostFiles } from './host-files.js';
import { type HostTopology, readHostTopology, stagingWalk } from './host-topology.js';
import { type LoaderFacts, readLoaderFacts } from './kernel-loader.js';
import { type MsrFacts, readMsrFacts } from './msr-facts.js';

/** Everything the probe knows about a host, before any judgement. */
export interface HostFacts {
  identity: CpuIdentity;
  topology: HostTopology;
  loader: LoaderFacts;
  msrs: MsrFacts;
  platformId: { value: number | null; source: 'sysfs' | 'msr' | null };
  /** CPU 0's revision: the one the kernel checks a late load against. */
  bootRevision: number | null;
  /** `intel-ucode/FF-MM-SS` for an Intel CPU, else null. */
  firmwareName: string | null;
  firmware: FirmwareFile | null;
}

export interface FactOptions {
  /** --firmware DIR was given: only /lib/firmware/intel-ucode/ (read from DIR) is searched. */
  firmwareFolderOnly?: boolean;
}

export const INTEL = 'GenuineIntel';

/** The CPU the kernel reads MSR 0x7a5 on for each package: the first primary thread of it in the walk. */
export function mailboxCpus(topology: Pick<HostTopology, 'cpus'>): { pkg: number; cpu: number }[] {
  const seen = new Map<number, number>();
  for (const pass of stagingWalk(topology)) if (!seen.has(pass.pkg)) seen.set(pass.pkg, pass.cpu);
  return [...seen].sort((a, b) => a[0] - b[0]).map(([pkg, cpu]) => ({ pkg, cpu }));
}

export function firmwareNameOf(identity: CpuIdentity): string | null {
  return identity.vendor === INTEL && identity.fms !== null ? `intel-ucode/${identity.fms}` : null;
}

export function readHostFacts(files: HostFiles, opts: FactOptions = {}): HostFacts {
  const identity = readCpuIdentity(files);
  const topology = readHostTopology(files, identity);
  const loader = readLoaderFacts(files);
  const msrs = readMsrFacts(files, mailboxCpus(topology));
  const cpu0 = topology.cpus.find((c) => c.cpu === 0) ?? topology.cpus[0];
  const flags = cpu0?.processorFlags ?? null;
  const fromSysfs = flags !== null && flags > 0 && (flags & (flags - 1)) === 0 ? Math.log2(flags) : null;
  const platformId: HostFacts['platformId'] =
    fromSysfs !== null
      ? { value: fromSysfs, source: 'sysfs' }
      : msrs.platformId !== null
        ? { value: msrs.platformId, source: 'msr' }
        : { value: null, source: null };
  const firmwareName = firmwareNameOf(identity);
  const firmware =
    firmwareName === null
      ? null
      : findFirmwareFile(
          files,
          firmwareSearchPaths(firmwareName, {
            release: loader.kernel?.release ?? null,
            firmwareClassPath: loader.firmwareClassPath,
            folderOnly: opts.firmwareFolderOnly ?? false,
          }),
        );
  return {
    identity,
    topology,
    loader,
    msrs,
    platformId,
    bootRevision: cpu0?.revision ?? null,
    firmwareName,
    firmware,
  };
}
