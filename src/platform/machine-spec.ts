import { DEFAULT_COST_MODEL } from '../time/cost-model.js';
import { numberIn, wholeNumber, z } from '../zod.js';
import { DeviceFaultSchema, DeviceProfileSchema } from './mailbox/config.js';

const u32 = wholeNumber(0, 0xffff_ffff);
const nonNegNs = numberIn(0, 86_400e9);
// Names reach terminals, logs and the HTML report: a control character (an ANSI
// escape, a newline) could forge a kernel log line, so none is accepted.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to match them
const printable = z.regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'control characters are not allowed');

export const CostModelOverridesSchema = z.partial(
  z.strictObject({
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
  }),
);
export type CostModelOverrides = z.input<typeof CostModelOverridesSchema>;

/** A package's mailbox: how it behaves and how it breaks. */
export const PackageConfigSchema = z.strictObject({
  profile: z._default(DeviceProfileSchema, { kind: 'ideal' }),
  faults: z._default(z.array(DeviceFaultSchema).check(z.maxLength(64)), []),
  /**
   * No device decodes the mailbox address. ioremap() still maps it (only RAM is
   * refused); every read returns `mailbox.undecodedRead`, writes are dropped.
   */
  mailboxAbsent: z._default(z.boolean(), false),
  /**
   * RDMSR 0x7a5 raises #GP on this package's CPUs. The kernel reads it with the
   * plain RDMSR: its exception fixup warns and reads 0, and staging goes on at
   * physical address 0 (see `lowMemory`).
   */
  mailboxMsrFault: z._default(z.boolean(), false),
});
export type PackageConfig = z.infer<typeof PackageConfigSchema>;

export const CpuFaultSchema = z
  .strictObject({
    cpu: wholeNumber(0),
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
    delayNs: z.optional(nonNegNs),
  })
  .check(
    z.refine((f) => f.kind !== 'late-arrival' || f.delayNs !== undefined, {
      message: 'late-arrival needs its delay (delayNs)',
      path: ['delayNs'],
    }),
    z.refine((f) => f.kind !== 'late-to-stop-machine' || f.delayNs !== undefined, {
      message: 'late-to-stop-machine needs its delay (delayNs)',
      path: ['delayNs'],
    }),
  );
export type CpuFault = z.infer<typeof CpuFaultSchema>;

export const MachineSpecSchema = z
  .strictObject({
    name: z.string().check(printable, z.minLength(1), z.maxLength(200)),
    description: z._default(z.string().check(printable, z.maxLength(2000)), ''),
    packages: wholeNumber(1, 64),
    coresPerPackage: wholeNumber(1, 1024),
    threadsPerCore: z.union([z.literal(1), z.literal(2), z.literal(4)], { error: 'must be 1, 2 or 4' }),
    /** CPUID(1).EAX. */
    signature: u32,
    /** IA32_PLATFORM_ID bits 52:50. */
    platformId: wholeNumber(0, 7),
    /** Microcode revision every core runs before the late load. */
    initialRevision: u32,
    /** The two enumeration bits the Intel driver checks. */
    staging: z.strictObject({
      /** IA32_ARCH_CAPABILITIES bit 16: MSR 0x7b exists. */
      archCapMcuEnum: z.boolean(),
      /** IA32_MCU_ENUMERATION bit 4: staging available. */
      mcuStaging: z.boolean(),
    }),
    /** Mailbox physical address of package p is base + p * stride. */
    mailbox: z._default(
      z.strictObject({
        base: wholeNumber(0x1000, 2 ** 52),
        stride: wholeNumber(16, 2 ** 40),
        /**
         * What a read returns from an address no device decodes (a missing
         * mailbox): all ones on most platforms (a master abort).
         */
        undecodedRead: z._default(u32, 0xffff_ffff),
      }),
      { base: 0xfed2_0000, stride: 0x1000, undecodedRead: 0xffff_ffff },
    ),
    /**
     * The four dwords at physical 0x0-0xf (firmware-reserved low memory, the
     * real-mode interrupt vector table): what the driver reads and overwrites when
     * MSR 0x7a5 faulted and staging goes on at address 0.
     */
    lowMemory: z._default(z.array(u32).check(z.length(4)), [0, 0, 0, 0]),
    /** The task that writes the reload file: the CPU it runs on and its PID (a WARN prints both). */
    reloadTask: z._default(
      z.strictObject({
        cpu: wholeNumber(0),
        pid: wholeNumber(1, 4_194_304),
      }),
      { cpu: 0, pid: 1000 },
    ),
    numbering: z._default(
      z.strictObject({
        /** 'package-major': package 0's cores first; 'interleaved': core k of every package, then k+1. */
        packages: z._default(z.enum(['package-major', 'interleaved']), 'package-major'),
        /** 'last': all first threads, then all second threads (Intel's usual); 'adjacent': a core's threads together. */
        smt: z._default(z.enum(['last', 'adjacent']), 'last'),
      }),
      { packages: 'package-major', smt: 'last' },
    ),
    offlineCpus: z._default(z.array(wholeNumber(0)).check(z.maxLength(100_000)), []),
    /** Per-package mailbox behaviour; missing entries default to `ideal`, no faults. */
    packageConfig: z._default(z.array(PackageConfigSchema).check(z.maxLength(64)), []),
    cpuFaults: z._default(z.array(CpuFaultSchema).check(z.maxLength(100_000)), []),
    cost: z._default(CostModelOverridesSchema, {}),
  })
  .check(
    z.superRefine((m, ctx) => {
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
    }),
  );

export type MachineSpecInput = z.input<typeof MachineSpecSchema>;
export type MachineSpec = z.output<typeof MachineSpecSchema>;

export class MachineSpecError extends Error {
  override name = 'MachineSpecError';
}

/** Validate a machine description; the error names the offending field. */
export function parseMachineSpec(input: unknown): MachineSpec {
  const r = MachineSpecSchema.safeParse(input);
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
