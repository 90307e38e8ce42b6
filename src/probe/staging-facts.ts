import { hex } from '../format/hex.js';
import type { HostFacts } from './host-facts.js';
import { stagingWalk } from './host-topology.js';
import { MSR_HELP } from './msr-facts.js';

export interface StagingFacts {
  /** What the CPU enumerates: both bits set, one clear, or unknown (MSRs unreadable). */
  support: 'supported' | 'not-supported' | 'unknown';
  why: string;
  archCapMcuEnum: boolean | null;
  mcuStaging: boolean | null;
  /** The running kernel has the staging step (6.19+). */
  kernelHasStaging: boolean | null;
  /** The kernel's walk on this numbering: one pass each time the primary thread's package changes. */
  passes: { cpu: number; pkg: number }[];
  mailboxes: { pkg: number; cpu: number; address: number | null; problem: string | null }[];
}

export function readStagingFacts(facts: HostFacts): StagingFacts {
  const { msrs, identity, loader } = facts;
  let support: StagingFacts['support'];
  let why: string;
  if (msrs.archCapMcuEnum === true && msrs.mcuStaging === true) {
    support = 'supported';
    why = 'MSR 0x10a bit 16 (MCU enumeration) and MSR 0x7b bit 4 (staging) are set';
  } else if (msrs.archCapMcuEnum === false) {
    support = 'not-supported';
    why = 'MSR 0x10a bit 16 is clear: no MCU enumeration MSR';
  } else if (msrs.mcuStaging === false) {
    support = 'not-supported';
    why = 'MSR 0x7b bit 4 is clear';
  } else if (identity.archCapabilities === false) {
    // No IA32_ARCH_CAPABILITIES at all, so no bit 16 in it: known without reading an MSR.
    support = 'not-supported';
    why = 'the CPU has no IA32_ARCH_CAPABILITIES (no arch_capabilities flag in /proc/cpuinfo)';
  } else {
    support = 'unknown';
    why = `the enumeration MSRs could not be read: ${msrs.why ?? MSR_HELP}`;
  }
  return {
    support,
    why,
    archCapMcuEnum: msrs.archCapMcuEnum,
    mcuStaging: msrs.mcuStaging,
    kernelHasStaging: loader.hasStaging,
    passes: stagingWalk(facts.topology),
    mailboxes: msrs.mailboxes,
  };
}

/** "0xfed20000 (pkg 0), 0xfed21000 (pkg 1)" or why they are unknown. */
export function mailboxText(staging: StagingFacts): string {
  if (staging.mailboxes.length === 0) return 'unknown';
  if (staging.mailboxes.every((m) => m.address === null))
    return `unknown (${staging.mailboxes[0]!.problem ?? 'not read'})`;
  return staging.mailboxes
    .map((m) => `${m.address === null ? 'unknown' : hex(m.address)} (pkg ${m.pkg})`)
    .join(', ');
}
