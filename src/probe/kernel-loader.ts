import { CPU_SYSFS, entryProblem, entryText, type HostFiles } from './host-files.js';
import {
  isProblem,
  type KernelVersion,
  kernelBool,
  parseCmdline,
  parseKernelConfig,
  parseRelease,
  versionAtLeast,
} from './parse-host-text.js';

/**
 * The running kernel's microcode loader, from its release, its command line, its config and
 * sysfs. Facts accepted (Linux sources, summarised in docs/probe.md):
 * - staging is in 6.19 and later; the minimum-revision rule (`min_req_ver`) in 6.7 and later;
 *   `CONFIG_MICROCODE_LATE_LOADING` gates late loading since 5.19 (always built before);
 * - force_minrev starts as `CONFIG_MICROCODE_LATE_FORCE_MINREV`; 6.7 to 6.17 take the boot
 *   parameter `microcode.force_minrev=<bool>` and show the live value in
 *   /sys/module/microcode/parameters/force_minrev; 6.18 and later drop that parameter and take
 *   `microcode=force_minrev` (a comma-separated list; the last `microcode=` counts);
 * - the loader is off with the bare word `dis_ucode_ldr` (and `microcode=dis_ucode_ldr` from
 *   6.18), and in any guest that sees the CPUID hypervisor bit.
 */
export interface LoaderFacts {
  kernel: KernelVersion | null;
  /** The kernel has the staging step (6.19+). */
  hasStaging: boolean | null;
  /** The kernel checks min_req_ver (6.7+). */
  hasMinrevCheck: boolean | null;
  /** Where the config came from, or null when none could be read. */
  configSource: string | null;
  /** CONFIG_MICROCODE. */
  microcode: boolean | null;
  /** 'always' for kernels before 5.19, which had no option. */
  lateLoading: 'compiled-in' | 'compiled-out' | 'always' | 'unknown';
  forceMinrev: { value: boolean; source: string };
  disUcodeLdr: { value: boolean; source: string | null };
  hz: number | null;
  /** /sys/devices/system/cpu/microcode/reload. */
  reloadFile: 'present' | 'absent' | 'unknown';
  /** firmware_class.path (live value or boot parameter); '' when unset. */
  firmwareClassPath: string;
  problems: string[];
}

export const RELEASE = '/proc/sys/kernel/osrelease';
export const CMDLINE = '/proc/cmdline';
export const CONFIG_GZ = '/proc/config.gz';
export const RELOAD = `${CPU_SYSFS}/microcode/reload`;
export const FORCE_MINREV_PARAM = '/sys/module/microcode/parameters/force_minrev';
export const FIRMWARE_PATH_PARAM = '/sys/module/firmware_class/parameters/path';

export function bootConfigPath(release: string): string {
  return `/boot/config-${release}`;
}

export function readKernelVersion(files: HostFiles, problems: string[] = []): KernelVersion | null {
  const entry = files.get(RELEASE);
  const text = entryText(entry);
  if (text === undefined) {
    problems.push(`${RELEASE} ${entryProblem(entry)}`);
    return null;
  }
  const v = parseRelease(text);
  if (isProblem(v)) {
    problems.push(`${RELEASE}: ${v.problem}`);
    return null;
  }
  return v;
}

function readConfig(
  files: HostFiles,
  kernel: KernelVersion | null,
  problems: string[],
): { config: Map<string, string> | null; source: string | null } {
  const candidates = [...(kernel ? [bootConfigPath(kernel.release)] : []), CONFIG_GZ];
  for (const path of candidates) {
    const text = entryText(files.get(path));
    if (text !== undefined) {
      const config = parseKernelConfig(text);
      if (config.size > 0) return { config, source: path };
      problems.push(`${path}: no CONFIG_ lines`);
    }
  }
  const tried = candidates.map((p) => `${p} ${entryProblem(files.get(p))}`).join('; ');
  problems.push(`no kernel config: ${tried}`);
  return { config: null, source: null };
}

export function readLoaderFacts(files: HostFiles): LoaderFacts {
  const problems: string[] = [];
  const kernel = readKernelVersion(files, problems);
  const { config, source } = readConfig(files, kernel, problems);
  const cmdlineText = entryText(files.get(CMDLINE));
  if (cmdlineText === undefined) problems.push(`${CMDLINE} ${entryProblem(files.get(CMDLINE))}`);
  const cmdline = parseCmdline(cmdlineText ?? '');
  const at = (major: number, minor: number): boolean | null =>
    kernel === null ? null : versionAtLeast(kernel, major, minor);
  const flag = (name: string): boolean | null => {
    if (config === null) return null;
    const v = config.get(name);
    return v === 'y' || v === 'm';
  };

  const microcode = flag('CONFIG_MICROCODE');
  let lateLoading: LoaderFacts['lateLoading'] = 'unknown';
  if (at(5, 19) === false) lateLoading = microcode === false ? 'compiled-out' : 'always';
  else if (config !== null)
    lateLoading = microcode && flag('CONFIG_MICROCODE_LATE_LOADING') ? 'compiled-in' : 'compiled-out';

  const hzText = config?.get('CONFIG_HZ');
  const hz = hzText !== undefined && /^\d{2,4}$/.test(hzText) ? Number(hzText) : null;

  const reloadEntry = files.get(RELOAD);
  const reloadFile =
    reloadEntry?.kind === 'present' ? 'present' : reloadEntry?.kind === 'missing' ? 'absent' : 'unknown';

  return {
    kernel,
    hasStaging: at(6, 19),
    hasMinrevCheck: at(6, 7),
    configSource: source,
    microcode,
    lateLoading,
    forceMinrev: forceMinrev(files, cmdline, flag('CONFIG_MICROCODE_LATE_FORCE_MINREV'), at(6, 18)),
    disUcodeLdr: disUcodeLdr(cmdline, at(6, 18)),
    hz,
    reloadFile,
    firmwareClassPath: firmwareClassPath(files, cmdline),
    problems,
  };
}

/** The options of the last `microcode=` parameter (what cmdline_find_option() returns, 63 bytes at most). */
function microcodeOptions(cmdline: readonly { key: string; value: string | undefined }[]): string[] {
  const last = cmdline.filter((p) => p.key === 'microcode' && p.value !== undefined).at(-1);
  return last === undefined ? [] : last.value!.slice(0, 63).split(',');
}

function forceMinrev(
  files: HostFiles,
  cmdline: readonly { key: string; value: string | undefined }[],
  configured: boolean | null,
  newSyntax: boolean | null,
): LoaderFacts['forceMinrev'] {
  const base =
    configured === null ? 'kernel config unknown: assumed off' : 'CONFIG_MICROCODE_LATE_FORCE_MINREV';
  let value = configured ?? false;
  let source = base;
  if (newSyntax !== false && microcodeOptions(cmdline).includes('force_minrev')) {
    return { value: true, source: 'microcode=force_minrev on the command line' };
  }
  if (newSyntax !== true) {
    // 6.7-6.17: a bool module parameter, last one wins, and writable at run time.
    for (const p of cmdline) {
      if (p.key !== 'microcode.force_minrev') continue;
      const b = p.value === undefined ? true : kernelBool(p.value);
      if (b !== undefined) {
        value = b;
        source = `microcode.force_minrev${p.value === undefined ? '' : `=${p.value}`} on the command line`;
      }
    }
    const live = entryText(files.get(FORCE_MINREV_PARAM));
    const b = live === undefined ? undefined : kernelBool(live.trim());
    if (b !== undefined) {
      value = b;
      source = FORCE_MINREV_PARAM;
    }
  }
  return { value, source };
}

function disUcodeLdr(
  cmdline: readonly { key: string; value: string | undefined }[],
  newSyntax: boolean | null,
): LoaderFacts['disUcodeLdr'] {
  if (cmdline.some((p) => p.key === 'dis_ucode_ldr' && p.value === undefined))
    return { value: true, source: 'dis_ucode_ldr on the command line' };
  if (newSyntax !== false && microcodeOptions(cmdline).includes('dis_ucode_ldr'))
    return { value: true, source: 'microcode=dis_ucode_ldr on the command line' };
  return { value: false, source: null };
}

function firmwareClassPath(
  files: HostFiles,
  cmdline: readonly { key: string; value: string | undefined }[],
): string {
  const live = entryText(files.get(FIRMWARE_PATH_PARAM));
  if (live !== undefined) return live.trim();
  return cmdline.filter((p) => p.key === 'firmware_class.path').at(-1)?.value ?? '';
}
