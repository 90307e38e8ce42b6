import { readCpuIdentity } from './cpu-identity.js';
import { firmwareSearchPaths } from './firmware-search.js';
import { firmwareNameOf, INTEL, mailboxCpus } from './host-facts.js';
import {
  CPU_SYSFS,
  type HostFiles,
  type HostReader,
  MAX_FIRMWARE_FILE_BYTES,
  MAX_TEXT_FILE_BYTES,
  RecordingReader,
} from './host-files.js';
import {
  CPU_LIST_FILES,
  MICROCODE_FILES,
  readCpuLists,
  readHostTopology,
  SMT_CONTROL,
  TOPOLOGY_FILES,
} from './host-topology.js';
import {
  bootConfigPath,
  CMDLINE,
  CONFIG_GZ,
  FIRMWARE_PATH_PARAM,
  FORCE_MINREV_PARAM,
  RELEASE,
  RELOAD,
  readKernelVersion,
  readLoaderFacts,
} from './kernel-loader.js';
import { ARCH_CAP_MCU_ENUM, MCU_STAGING, MSR, readRegister } from './msr-facts.js';

export interface CollectOptions {
  /** Search only /lib/firmware/intel-ucode/ (the CLI reads it from --firmware DIR). */
  firmwareFolderOnly?: boolean;
}

/**
 * Read a host through `reader`, in the order the answers are needed: the kernel and the CPU
 * first, then each CPU's sysfs folders, the MSRs the Intel driver reads (0x7b only when 0x10a
 * says it exists, 0x7a5 only when staging is enumerated), and the one firmware file the kernel
 * would load. Returns every answer, for the analysis and for `--save`.
 */
export function collectHostFiles(reader: HostReader, opts: CollectOptions = {}): HostFiles {
  const r = new RecordingReader(reader);
  const text = { maxBytes: MAX_TEXT_FILE_BYTES };

  for (const path of ['/proc/cpuinfo', RELEASE, CMDLINE]) r.readFile(path, text);
  const kernel = readKernelVersion(r.files);
  const config = kernel ? r.readFile(bootConfigPath(kernel.release), text) : undefined;
  if (config?.kind !== 'file') r.readFile(CONFIG_GZ, { ...text, gunzip: true });
  r.readFile(FORCE_MINREV_PARAM, text);
  r.readFile(FIRMWARE_PATH_PARAM, text);
  r.stat(RELOAD);

  for (const name of CPU_LIST_FILES) r.readFile(`${CPU_SYSFS}/${name}`, text);
  r.readFile(SMT_CONTROL, text);
  const identity = readCpuIdentity(r.files);
  const { present, online } = readCpuLists(r.files, identity);
  for (const cpu of present) {
    // The kernel removes an offline CPU's topology and microcode folders: nothing to ask.
    if (!online.has(cpu)) continue;
    for (const f of TOPOLOGY_FILES) r.readFile(`${CPU_SYSFS}/cpu${cpu}/topology/${f}`, text);
    for (const f of MICROCODE_FILES) r.readFile(`${CPU_SYSFS}/cpu${cpu}/microcode/${f}`, text);
  }

  if (identity.vendor === INTEL) readIntelMsrs(r);

  const name = firmwareNameOf(identity);
  if (name !== null) {
    const loader = readLoaderFacts(r.files);
    const paths = firmwareSearchPaths(name, {
      release: kernel?.release ?? null,
      firmwareClassPath: loader.firmwareClassPath,
      folderOnly: opts.firmwareFolderOnly ?? false,
    });
    for (const path of paths) {
      if (r.readFile(path, { maxBytes: MAX_FIRMWARE_FILE_BYTES }).kind === 'file') break;
    }
  }
  return r.files;
}

/** CPU 0's enumeration MSRs as the driver reads them at init, then each package's mailbox address. */
function readIntelMsrs(r: RecordingReader): void {
  if (r.readMsrs(0, [MSR.platformId, MSR.archCapabilities]).kind !== 'msr') return;
  const archCap = readRegister(r.files, 0, MSR.archCapabilities).value;
  if (archCap === null || (archCap & ARCH_CAP_MCU_ENUM) === 0n) return;
  r.readMsrs(0, [MSR.mcuEnumeration]);
  const mcuEnum = readRegister(r.files, 0, MSR.mcuEnumeration).value;
  if (mcuEnum === null || (mcuEnum & MCU_STAGING) === 0n) return;
  const topology = readHostTopology(r.files, readCpuIdentity(r.files));
  for (const { cpu } of mailboxCpus(topology)) r.readMsrs(cpu, [MSR.stagingMailbox]);
}
