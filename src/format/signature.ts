import type { MicrocodeBlob } from './blob.js';

export interface FamilyModelStepping {
  family: number;
  model: number;
  stepping: number;
}

/** What the kernel matches a blob against: CPUID(1).EAX and the CPU's one platform flag bit. */
export interface CpuSignature {
  signature: number;
  /** 1 << platform id, or 0 on CPUs without MSR 0x17 (family 6 models before 5). */
  platformFlags: number;
}

/** Linux x86_family()/x86_model(): extended fields count only for the families that define them. */
export function decodeSignature(sig: number): FamilyModelStepping {
  let family = (sig >>> 8) & 0xf;
  if (family === 0xf) family += (sig >>> 20) & 0xff;
  let model = (sig >>> 4) & 0xf;
  if (family >= 6) model += ((sig >>> 16) & 0xf) << 4;
  return { family, model, stepping: sig & 0xf };
}

const twoHex = (n: number): string => n.toString(16).padStart(2, '0');

/** The name the kernel requests under intel-ucode/, e.g. 0xa06d1 -> "06-ad-01". */
export function fmsFileName(sig: number): string {
  const { family, model, stepping } = decodeSignature(sig);
  return `${twoHex(family)}-${twoHex(model)}-${twoHex(stepping)}`;
}

/**
 * Inverse of fmsFileName. Only names the kernel could request are accepted (lower-case, and a
 * family/model pair CPUID can encode), so a name and its signature always round-trip.
 */
export function parseFmsFileName(name: string): (FamilyModelStepping & { signature: number }) | undefined {
  const m = /^([0-9a-f]{2,3})-([0-9a-f]{2})-([0-9a-f]{2})$/.exec(name);
  if (!m) return undefined;
  const family = Number.parseInt(m[1], 16);
  const model = Number.parseInt(m[2], 16);
  const stepping = Number.parseInt(m[3], 16);
  if (stepping > 0xf || family > 0xf + 0xff) return undefined;
  const baseFamily = Math.min(family, 0xf);
  const extendedFamily = family - baseFamily;
  const extendedModel = family >= 6 ? model >>> 4 : 0;
  const signature =
    ((extendedFamily << 20) | (extendedModel << 16) | (baseFamily << 8) | ((model & 0xf) << 4) | stepping) >>>
    0;
  return fmsFileName(signature) === name ? { family, model, stepping, signature } : undefined;
}

/** The CPU's platform flag bit from its 3-bit platform id (MSR 0x17 bits 52:50). */
export function cpuPlatformFlag(platformId: number): number {
  return 1 << (platformId & 7);
}

/** Platform id from the full 64-bit IA32_PLATFORM_ID (MSR 0x17) value. */
export function platformIdFromMsr(msr17: bigint): number {
  return Number((msr17 >> 50n) & 7n);
}

function signaturePairMatches(cpu: CpuSignature, signature: number, processorFlags: number): boolean {
  if (cpu.signature >>> 0 !== signature) return false;
  // Either both have no platform flags (old CPUs and their blobs) or the masks share a bit.
  return (cpu.platformFlags === 0 && processorFlags === 0) || (cpu.platformFlags & processorFlags) !== 0;
}

/** Linux intel_find_matching_signature(): the main header first, then each extended signature. */
export function signatureMatches(blob: MicrocodeBlob, cpu: CpuSignature): boolean {
  if (signaturePairMatches(cpu, blob.header.signature, blob.header.processorFlags)) return true;
  return blob.extendedSignatures.some((e) => signaturePairMatches(cpu, e.signature, e.processorFlags));
}
