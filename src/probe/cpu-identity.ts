import { fmsFileName, parseFmsFileName } from '../format/signature.js';
import { entryProblem, entryText, type HostFiles } from './host-files.js';
import { type CpuinfoBlock, parseCpuinfo } from './parse-host-text.js';

/** What /proc/cpuinfo says about the CPUs: the boot CPU's identity, and each CPU's own lines. */
export interface CpuIdentity {
  vendor: string | null;
  modelName: string | null;
  family: number | null;
  model: number | null;
  stepping: number | null;
  /** CPUID(1).EAX rebuilt from family/model/stepping, null when any is missing. */
  signature: number | null;
  /** The kernel's firmware name for it, "06-ad-01". */
  fms: string | null;
  /** The `hypervisor` flag: CPUID(1).ECX bit 31, set by every hypervisor for its guests. */
  hypervisor: boolean | null;
  /** The `arch_capabilities` flag: MSR 0x10a exists (without it staging cannot be enumerated). */
  archCapabilities: boolean | null;
  /** Per CPU number: the `microcode` and `apicid` lines, when given. */
  perCpu: Map<number, { microcode: number | null; apicId: number | null }>;
  /** What was wrong with the file, for the report. */
  problems: string[];
}

const CPUINFO = '/proc/cpuinfo';

function whole(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  return Number(text);
}

function hexRevision(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^0x([0-9a-f]{1,8})$/i.exec(text);
  return m ? Number.parseInt(m[1]!, 16) : null;
}

/** CPUID(1).EAX from the family/model/stepping Linux prints (the inverse of x86_family/x86_model). */
export function signatureOf(family: number, model: number, stepping: number): number | null {
  if (family > 0xf + 0xff || model > 0xff || stepping > 0xf) return null;
  const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
  const parsed = parseFmsFileName(`${hex2(family)}-${hex2(model)}-${hex2(stepping)}`);
  return parsed?.signature ?? null;
}

export function readCpuIdentity(files: HostFiles): CpuIdentity {
  const entry = files.get(CPUINFO);
  const text = entryText(entry);
  const identity: CpuIdentity = {
    vendor: null,
    modelName: null,
    family: null,
    model: null,
    stepping: null,
    signature: null,
    fms: null,
    hypervisor: null,
    archCapabilities: null,
    perCpu: new Map(),
    problems: [],
  };
  if (text === undefined) {
    identity.problems.push(`${CPUINFO} ${entryProblem(entry)}`);
    return identity;
  }
  const blocks = parseCpuinfo(text);
  if (blocks.length === 0) {
    identity.problems.push(`${CPUINFO} holds no processor lines`);
    return identity;
  }
  const boot = blocks.find((b) => b.get('processor') === '0') ?? blocks[0]!;
  fillBootCpu(identity, boot);
  for (const b of blocks) {
    const cpu = whole(b.get('processor'));
    if (cpu === null) continue;
    identity.perCpu.set(cpu, { microcode: hexRevision(b.get('microcode')), apicId: whole(b.get('apicid')) });
  }
  return identity;
}

function fillBootCpu(identity: CpuIdentity, boot: CpuinfoBlock): void {
  identity.vendor = boot.get('vendor_id') || null;
  identity.modelName = boot.get('model name') || null;
  identity.family = whole(boot.get('cpu family'));
  identity.model = whole(boot.get('model'));
  identity.stepping = whole(boot.get('stepping'));
  if (identity.vendor === null) identity.problems.push(`${CPUINFO}: no vendor_id line`);
  if (identity.family === null || identity.model === null || identity.stepping === null) {
    identity.problems.push(`${CPUINFO}: cpu family, model or stepping missing or not a number`);
  } else {
    identity.signature = signatureOf(identity.family, identity.model, identity.stepping);
    if (identity.signature === null)
      identity.problems.push(
        `${CPUINFO}: family ${identity.family} model ${identity.model} stepping ${identity.stepping} is not a CPUID signature`,
      );
    else identity.fms = fmsFileName(identity.signature);
  }
  const flags = boot.get('flags');
  if (flags === undefined) {
    identity.problems.push(`${CPUINFO}: no flags line`);
  } else {
    const set = new Set(flags.split(/\s+/));
    identity.hypervisor = set.has('hypervisor');
    identity.archCapabilities = set.has('arch_capabilities');
  }
}
