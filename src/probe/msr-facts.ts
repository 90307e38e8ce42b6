import { type HostFiles, msrDevicePath } from './host-files.js';

/** The MSRs the probe reads, all read-only: nothing is ever written. */
export const MSR = {
  /** IA32_PLATFORM_ID: bits 52:50 are the platform id microcode blobs are matched on. */
  platformId: 0x17,
  /** IA32_MCU_ENUMERATION: bit 4 says staging is available. */
  mcuEnumeration: 0x7b,
  /** IA32_ARCH_CAPABILITIES: bit 16 says MSR 0x7b exists. */
  archCapabilities: 0x10a,
  /** IA32_MCU_STAGING_MBOX_ADDR: the package's staging mailbox (physical address). */
  stagingMailbox: 0x7a5,
} as const;

export const ARCH_CAP_MCU_ENUM = 1n << 16n;
export const MCU_STAGING = 1n << 4n;

export interface MsrValue {
  cpu: number;
  register: number;
  /** The value, or null with `problem` saying why not. */
  value: bigint | null;
  problem: string | null;
}

export interface MsrFacts {
  /** How /dev/cpu/0/msr went: read, missing (no msr module), unreadable (not root), or never tried. */
  access: 'read' | 'missing' | 'unreadable' | 'not-read';
  /** Why the MSRs are unknown, in one phrase, when they are. */
  why: string | null;
  values: MsrValue[];
  archCapMcuEnum: boolean | null;
  mcuStaging: boolean | null;
  platformId: number | null;
  /** MSR 0x7a5 as read on `cpu`, the CPU the kernel reads it on for that package. */
  mailboxes: { pkg: number; cpu: number; address: number | null; problem: string | null }[];
}

export const MSR_HELP = 'needs root and `modprobe msr`';

export function readRegister(files: HostFiles, cpu: number, register: number): MsrValue {
  const entry = files.get(msrDevicePath(cpu));
  if (entry === undefined) return { cpu, register, value: null, problem: 'not read' };
  if (entry.kind === 'missing')
    return { cpu, register, value: null, problem: `no ${msrDevicePath(cpu)}: ${MSR_HELP}` };
  if (entry.kind === 'unreadable')
    return { cpu, register, value: null, problem: `${msrDevicePath(cpu)}: ${entry.reason}; ${MSR_HELP}` };
  if (entry.kind !== 'msr') return { cpu, register, value: null, problem: 'not an MSR device' };
  const v = entry.registers.get(register);
  if (v === undefined) return { cpu, register, value: null, problem: 'not read' };
  if (typeof v === 'string') return { cpu, register, value: null, problem: v };
  return { cpu, register, value: v, problem: null };
}

/** The staging enumeration bits and platform id from CPU 0's MSRs, and the mailbox per package. */
export function readMsrFacts(
  files: HostFiles,
  mailboxCpus: readonly { pkg: number; cpu: number }[],
): MsrFacts {
  const device = files.get(msrDevicePath(0));
  const access: MsrFacts['access'] =
    device === undefined
      ? 'not-read'
      : device.kind === 'msr'
        ? 'read'
        : device.kind === 'missing'
          ? 'missing'
          : 'unreadable';
  const why =
    access === 'read'
      ? null
      : access === 'not-read'
        ? 'not read (only Intel CPUs are probed)'
        : readRegister(files, 0, MSR.archCapabilities).problem;
  const values: MsrValue[] = [];
  const get = (cpu: number, register: number): MsrValue | null => {
    const v = readRegister(files, cpu, register);
    if (v.problem === 'not read') return null;
    values.push(v);
    return v;
  };
  const archCap = get(0, MSR.archCapabilities);
  const mcuEnum = get(0, MSR.mcuEnumeration);
  const platform = get(0, MSR.platformId);
  const archCapMcuEnum = archCap?.value == null ? null : (archCap.value & ARCH_CAP_MCU_ENUM) !== 0n;
  // Without ARCH_CAP_MCU_ENUM, MSR 0x7b does not exist: staging is known to be absent.
  const mcuStaging =
    archCapMcuEnum === false ? false : mcuEnum?.value == null ? null : (mcuEnum.value & MCU_STAGING) !== 0n;
  const mailboxes = mailboxCpus.map(({ pkg, cpu }) => {
    const v = get(cpu, MSR.stagingMailbox);
    return {
      pkg,
      cpu,
      address: v?.value == null ? null : Number(v.value),
      problem: v === null ? 'not read' : v.problem,
    };
  });
  return {
    access,
    why,
    values,
    archCapMcuEnum,
    mcuStaging,
    platformId: platform?.value == null ? null : Number((platform.value >> 50n) & 7n),
    mailboxes,
  };
}
