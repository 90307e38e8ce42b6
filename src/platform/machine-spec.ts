import { z } from 'zod';
import { DEFAULT_COST_MODEL } from '../time/cost-model.js';
import { DeviceFaultSchema, DeviceProfileSchema } from './mailbox/config.js';

const u32 = z.number().int().min(0).max(0xffff_ffff);
const nonNegNs = z.number().min(0).max(86_400e9);
// Names reach terminals, logs and the HTML report: a control character (an ANSI
// escape, a newline) could forge a kernel log line, so none is accepted.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to match them
const printable = z.string().regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'control characters are not allowed');

export const CostModelOverridesSchema = z
  .object({
    mmioWriteNs: nonNegNs,
    mmioReadNs: nonNegNs,
    deviceChunkNs: nonNegNs,
    hz: z.union([z.literal(100), z.literal(250), z.literal(300), z.literal(1000)], {
      error: 'must be 100, 250, 300 or 1000',
    }),
    kernelGeneration: z.enum(['6.12+', 'pre-6.12']),
    wakeupLatencyNs: nonNegNs,
    applyUnstagedBaseNs: nonNegNs,
    applyUnstagedPerByteNs: nonNegNs,
    applyStagedBaseNs: nonNegNs,
    applyStagedPerByteNs: nonNegNs,
    revisionReadNs: nonNegNs,
    msrAccessNs: nonNegNs,
    crossCallNs: nonNegNs,
    nmiSelfIpiNs: nonNegNs,
    stopMachineEntryNs: nonNegNs,
    stopMachineFanoutNs: nonNegNs,
  })
  .partial()
  .strict();
export type CostModelOverrides = z.input<typeof CostModelOverridesSchema>;

/** A package's mailbox: how it behaves and how it breaks. */
export const PackageConfigSchema = z
  .object({
    profile: DeviceProfileSchema.default({ kind: 'ideal' }),
    faults: z.array(DeviceFaultSchema).max(64).default([]),
    /**
     * No device decodes the mailbox address. ioremap() still maps it (only RAM is
     * refused); every read returns `mailbox.undecodedRead`, writes are dropped.
     */
    mailboxAbsent: z.boolean().default(false),
    /**
     * RDMSR 0x7a5 raises #GP on this package's CPUs. The kernel reads it with the
     * plain RDMSR: its exception fixup warns and reads 0, and staging goes on at
     * physical address 0 (see `lowMemory`).
     */
    mailboxMsrFault: z.boolean().default(false),
  })
  .strict();
export type PackageConfig = z.infer<typeof PackageConfigSchema>;

export const CpuFaultSchema = z
  .object({
    cpu: z.number().int().min(0),
    kind: z.enum([
      /** After stop_machine's barrier: never reaches the microcode handler (held with interrupts off). */
      'never-arrives',
      /** After stop_machine's barrier: reaches the microcode handler `delayNs` late. */
      'late-arrival',
      /** Its core rejects the update (revision unchanged after WRMSR 0x79). */
      'apply-rejected',
      /** Before the barrier: its stop_machine thread starts `delayNs` late, which holds every CPU back. */
      'late-to-stop-machine',
      /** Before the barrier: its stop_machine thread never runs; every other CPU waits in stop_machine for ever. */
      'never-reaches-stop-machine',
    ]),
    delayNs: nonNegNs.optional(),
  })
  .strict()
  .refine((f) => f.kind !== 'late-arrival' || f.delayNs !== undefined, {
    message: 'late-arrival needs its delay (delayNs)',
    path: ['delayNs'],
  })
  .refine((f) => f.kind !== 'late-to-stop-machine' || f.delayNs !== undefined, {
    message: 'late-to-stop-machine needs its delay (delayNs)',
    path: ['delayNs'],
  });
export type CpuFault = z.infer<typeof CpuFaultSchema>;

export const MachineSpecSchema = z
  .object({
    name: printable.min(1).max(200),
    description: printable.max(2000).default(''),
    packages: z.number().int().min(1).max(64),
    coresPerPackage: z.number().int().min(1).max(1024),
    threadsPerCore: z.union([z.literal(1), z.literal(2), z.literal(4)], { error: 'must be 1, 2 or 4' }),
    /** CPUID(1).EAX. */
    signature: u32,
    /** IA32_PLATFORM_ID bits 52:50. */
    platformId: z.number().int().min(0).max(7),
    /** Microcode revision every core runs before the late load. */
    initialRevision: u32,
    /** The two enumeration bits the Intel driver checks. */
    staging: z
      .object({
        /** IA32_ARCH_CAPABILITIES bit 16: MSR 0x7b exists. */
        archCapMcuEnum: z.boolean(),
        /** IA32_MCU_ENUMERATION bit 4: staging available. */
        mcuStaging: z.boolean(),
      })
      .strict(),
    /** Mailbox physical address of package p is base + p * stride. */
    mailbox: z
      .object({
        base: z
          .number()
          .int()
          .min(0x1000)
          .max(2 ** 52),
        stride: z
          .number()
          .int()
          .min(16)
          .max(2 ** 40),
        /**
         * What a read returns from an address no device decodes (a missing
         * mailbox): all ones on most platforms (a master abort).
         */
        undecodedRead: u32.default(0xffff_ffff),
      })
      .strict()
      .default({ base: 0xfed2_0000, stride: 0x1000, undecodedRead: 0xffff_ffff }),
    /**
     * The four dwords at physical 0x0-0xf (firmware-reserved low memory, the
     * real-mode interrupt vector table): what the driver reads and overwrites when
     * MSR 0x7a5 faulted and staging goes on at address 0.
     */
    lowMemory: z.array(u32).length(4).default([0, 0, 0, 0]),
    /** The task that writes the reload file: the CPU it runs on and its PID (a WARN prints both). */
    reloadTask: z
      .object({ cpu: z.number().int().min(0), pid: z.number().int().min(1).max(4_194_304) })
      .strict()
      .default({ cpu: 0, pid: 1000 }),
    numbering: z
      .object({
        /** 'package-major': package 0's cores first; 'interleaved': core k of every package, then k+1. */
        packages: z.enum(['package-major', 'interleaved']).default('package-major'),
        /** 'last': all first threads, then all second threads (Intel's usual); 'adjacent': a core's threads together. */
        smt: z.enum(['last', 'adjacent']).default('last'),
      })
      .strict()
      .default({ packages: 'package-major', smt: 'last' }),
    offlineCpus: z.array(z.number().int().min(0)).max(100_000).default([]),
    /** Per-package mailbox behaviour; missing entries default to `ideal`, no faults. */
    packageConfig: z.array(PackageConfigSchema).max(64).default([]),
    cpuFaults: z.array(CpuFaultSchema).max(100_000).default([]),
    cost: CostModelOverridesSchema.default({}),
  })
  .strict()
  .superRefine((m, ctx) => {
    const cpus = m.packages * m.coresPerPackage * m.threadsPerCore;
    if (cpus > 65_536) {
      ctx.addIssue({
        code: 'custom',
        path: ['coresPerPackage'],
        message: `${cpus} CPUs in all; the model supports at most 65536`,
      });
    }
    if (m.reloadTask.cpu >= cpus || m.offlineCpus.includes(m.reloadTask.cpu)) {
      ctx.addIssue({
        code: 'custom',
        path: ['reloadTask', 'cpu'],
        message: `CPU ${m.reloadTask.cpu} is not an online CPU`,
      });
    }
    for (const [i, cpu] of m.offlineCpus.entries()) {
      if (cpu >= cpus)
        ctx.addIssue({
          code: 'custom',
          path: ['offlineCpus', i],
          message: `CPU ${cpu} does not exist (${cpus} CPUs)`,
        });
    }
    for (const [i, f] of m.cpuFaults.entries()) {
      if (f.cpu >= cpus)
        ctx.addIssue({
          code: 'custom',
          path: ['cpuFaults', i, 'cpu'],
          message: `CPU ${f.cpu} does not exist (${cpus} CPUs)`,
        });
    }
    if (m.packageConfig.length > m.packages) {
      ctx.addIssue({
        code: 'custom',
        path: ['packageConfig'],
        message: `${m.packageConfig.length} entries for ${m.packages} packages`,
      });
    }
    if (m.staging.mcuStaging && !m.staging.archCapMcuEnum) {
      // Allowed (a firmware quirk worth simulating), but the driver will not see the bit.
    }
  });

export type MachineSpecInput = z.input<typeof MachineSpecSchema>;
export type MachineSpec = z.output<typeof MachineSpecSchema>;

export class MachineSpecError extends Error {
  override name = 'MachineSpecError';
}

/**
 * zod generates and compiles a fast parser for an object schema at its first
 * parse; a process that parses one machine (the CLI, a first simulate()) pays
 * more for that than it saves, so the first parse goes without (same result,
 * same errors) and later ones get the compiled parser.
 */
let specParsedBefore = false;
const JITLESS = { jitless: true } as const;

/** Validate a machine description; the error names the offending field. */
export function parseMachineSpec(input: unknown): MachineSpec {
  const r = MachineSpecSchema.safeParse(input, specParsedBefore ? undefined : JITLESS);
  specParsedBefore = true;
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const key = [...path, issue.keys[0]!].join('.');
    throw new MachineSpecError(`machine field '${key}': unknown field`);
  }
  throw new MachineSpecError(
    `machine field '${path.length ? path.join('.') : '(machine)'}': ${issue.message}`,
  );
}

export function cpuCount(m: Pick<MachineSpec, 'packages' | 'coresPerPackage' | 'threadsPerCore'>): number {
  return m.packages * m.coresPerPackage * m.threadsPerCore;
}

export { DEFAULT_COST_MODEL };
