import type { CpuResult } from '../kernel/core.js';
import type { StagingReport } from '../kernel/intel/staging-report.js';
import type { LogLevel, LogMark, TaintFlag } from '../kernel/printk.js';
import { CPU_RESULTS } from '../kernel/timelines.js';
import type { SpanCategory } from '../kernel/trace.js';
import type { CoreApplyRecord } from '../platform/machine.js';
import { MachineSpecSchema } from '../platform/machine-spec.js';
import { MISUSE_KINDS } from '../platform/mailbox/device.js';
import { RESULT_PARTS } from '../sim/json.js';
import type { SimulationResult } from '../sim/result-types.js';
import { wholeNumber, z } from '../zod.js';
import {
  CostModelJson,
  DeviceFaultJson,
  DeviceProfileJson,
  LoadOutcomeJson,
  NumberingJson,
  PolicyJson,
} from './parts.js';
import { Count, def, doc, exactly, Hex, jsonSchemaExtras, Ns, NsOrNull } from './wire.js';

// `simulate --json` and resultJson(): src/sim/result-types.ts on the wire
// (docs/result-schema.md).

export const RESULT_SCHEMA = 'ucode-staging/result@2' satisfies SimulationResult['schema'];

/** 0 or a negative errno. */
const Errno = wholeNumber(undefined, 0);

const Interval = z.strictObject({ startNs: Ns, endNs: Ns, durationNs: Ns });

const StagingPass = def(
  'stagingPass',
  z.strictObject({
    pkg: Count,
    cpu: Count,
    mailboxPa: Hex,
    msrFault: doc(
      z.optional(z.literal(true)),
      'Only when RDMSR 0x7a5 raised #GP: the kernel warned, read 0 and staged at address 0.',
    ),
    errno: Errno,
    bytesSent: Count,
    chunks: Count,
    resends: Count,
    polls: Count,
    dwordsWritten: Count,
    startNs: Ns,
    endNs: Ns,
  }),
  'One staging pass of the Intel driver (a package can be staged more than once).',
);

const StagingJson = z.strictObject({
  enabled: doc(z.boolean(), 'use_staging after driver init.'),
  attempted: z.boolean(),
  ok: z.boolean(),
  errno: Errno,
  errnoName: z.string(),
  reason: doc(
    z.nullable(
      exactly<NonNullable<StagingReport['reason']>>()([
        'misaligned',
        'cross-call-failed',
        'package-failed',
        'mailbox-msr-fault',
        'does-not-terminate',
      ]),
    ),
    'Why staging stopped where stage_microcode() returns nothing, or null.',
  ),
  failedCpu: z.nullable(Count),
  failedPackage: z.nullable(Count),
  startNs: NsOrNull,
  endNs: NsOrNull,
  durationNs: Ns,
  bytesSent: Count,
  chunks: Count,
  resends: Count,
  polls: Count,
  packages: z.array(StagingPass),
});

const CpuJson = def(
  'cpu',
  z.strictObject({
    cpu: Count,
    package: Count,
    core: Count,
    thread: Count,
    apicId: Count,
    primary: z.boolean(),
    online: z.boolean(),
    ctrlCpu: Count,
    // Exactly every CpuResult (a compile error otherwise), in the kernel model's code order.
    result: exactly<CpuResult>()(CPU_RESULTS),
    revisionBefore: Hex,
    revisionAfter: Hex,
    stoppedNs: NsOrNull,
    arrivedNs: NsOrNull,
    releasedNs: NsOrNull,
    applyStartNs: NsOrNull,
    applyEndNs: NsOrNull,
    doneNs: NsOrNull,
    stoppedForNs: doc(NsOrNull, "This CPU's share of the stop window (null when it never stopped)."),
  }),
  "A CPU's timeline in the late load; a time it never reached is null.",
);

const ApplyJson = z.strictObject({
  cpu: Count,
  core: Count,
  startNs: Ns,
  endNs: Ns,
  revision: Hex,
  outcome: exactly<CoreApplyRecord['outcome']>()(['updated', 'rejected']),
  reason: z.optional(z.string()),
  staged: z.boolean(),
});

const DeviceJson = def(
  'device',
  z.strictObject({
    package: Count,
    mailboxPa: Hex,
    present: z.boolean(),
    profile: DeviceProfileJson,
    faults: z.array(DeviceFaultJson),
    stagedRevision: z.nullable(Hex),
    stagedAtNs: NsOrNull,
    transactions: Count,
    bytesReceived: Count,
    rerequests: Count,
    aborts: Count,
    completions: Count,
    faultsFired: Count,
    misuse: z.array(z.strictObject({ timeNs: Ns, kind: z.enum(MISUSE_KINDS), detail: z.string() })),
  }),
  "A package's staging mailbox: its configuration, its counters and what it saw.",
);

const LogLineJson = z.strictObject({
  timeNs: Ns,
  level: exactly<LogLevel>()(['emerg', 'err', 'warn', 'info', 'default']),
  text: doc(z.string(), 'The text as the kernel prints it, prefix included, no newline.'),
  mark: doc(
    z.optional(z.strictObject({ kind: exactly<LogMark['kind']>()(['inexact', 'ours']), note: z.string() })),
    "Only on a line that is not the kernel's byte for byte.",
  ),
});

const SpanJson = z.strictObject({
  name: z.string(),
  cat: exactly<SpanCategory>()([
    'reload',
    'staging',
    'transaction',
    'stop_machine',
    'rendezvous',
    'apply',
    'wait_primary',
    'offline_kick',
  ]),
  cpu: Count,
  startNs: Ns,
  endNs: Ns,
  args: z.optional(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
});

const CounterJson = z.strictObject({ name: z.string(), pkg: Count, timeNs: Ns, value: z.number() });

const spec = MachineSpecSchema.shape;

const resultFields = {
  schema: z.literal(RESULT_SCHEMA),
  seed: doc(Count, 'The seed of every random choice in the run.'),
  machine: z.strictObject({
    name: z.string(),
    description: z.string(),
    packages: spec.packages,
    coresPerPackage: spec.coresPerPackage,
    threadsPerCore: spec.threadsPerCore,
    cpus: Count,
    onlineCpus: Count,
    signature: Hex,
    fms: doc(z.string(), 'The firmware file name, FF-MM-SS (06-ad-01).'),
    platformId: spec.platformId,
    initialRevision: Hex,
    stagingCapable: z.boolean(),
    numbering: NumberingJson,
  }),
  costModel: CostModelJson,
  policy: PolicyJson,
  image: doc(
    z.nullable(
      z.strictObject({
        source: z.string(),
        signature: Hex,
        revision: Hex,
        date: doc(z.nullable(z.string()), 'ISO date, or null when the header date is not BCD.'),
        totalSize: Count,
        minRequiredRevision: Hex,
      }),
    ),
    'The image the kernel chose, or null if none was chosen.',
  ),
  outcome: LoadOutcomeJson,
  returnCode: doc(
    z.nullable(wholeNumber(undefined, 0)),
    'What load_late_locked() returned: 0 or -errno; null when the write never returns (panic, hang, kernel-does-not-terminate).',
  ),
  returnCodeName: z.string(),
  writeReturn: doc(
    z.nullable(wholeNumber()),
    'What write(2) of "1\\n" to reload returns: 2 on success, else -errno; null when it never returns.',
  ),
  safe: doc(z.boolean(), 'The minimum-revision verdict.'),
  tainted: z.boolean(),
  taints: z.array(exactly<TaintFlag>()(['TAINT_WARN', 'TAINT_CPU_OUT_OF_SPEC'])),
  panicMessage: z.nullable(z.string()),
  hangReason: doc(
    z.nullable(z.string()),
    'Why stop_machine never returned (outcome hang); not a kernel line.',
  ),
  stuck: doc(
    z.nullable(
      z.strictObject({ where: z.string(), loop: z.string(), reason: z.string(), bound: z.string() }),
    ),
    'Where the kernel would wait or loop for ever (hang, kernel-does-not-terminate); not a kernel line.',
  ),
  revision: doc(z.strictObject({ old: Hex, new: Hex }), 'The boot CPU revision before and after.'),
  counts: z.strictObject({
    updated: Count,
    siblings: Count,
    failed: Count,
    timedOut: Count,
    offline: Count,
  }),
  staging: StagingJson,
  stopWindow: doc(
    z.nullable(Interval),
    'First CPU stopped to last released; null if CPUs were never stopped.',
  ),
  reload: doc(Interval, 'The whole reload write, to its return.'),
  cpus: z.optional(z.array(CpuJson)),
  applies: z.optional(doc(z.array(ApplyJson), 'Each WRMSR 0x79.')),
  devices: z.optional(z.array(DeviceJson)),
  log: z.optional(z.array(LogLineJson)),
  dmesg: doc(z.string(), 'The log as dmesg prints it.'),
  trace: z.optional(
    doc(
      z.strictObject({ spans: z.array(SpanJson), counters: z.array(CounterJson) }),
      'Spans and counters for the exporters (empty when the run was made with trace off).',
    ),
  ),
  omitted: doc(
    z.optional(z.array(z.enum(RESULT_PARTS)).check(z.minLength(1))),
    'The parts left out (`simulate --json-omit`, resultJson(r, { omit })); absent when none was. Every part not listed is present.',
  ),
};

/** A part of the result is absent exactly when `omitted` names it. */
export const ResultJson = z.strictObject(resultFields).check(
  z.superRefine((d, ctx) => {
    const omitted = new Set(d.omitted ?? []);
    for (const part of RESULT_PARTS) {
      const present = d[part] !== undefined;
      if (present === omitted.has(part))
        ctx.addIssue({
          code: 'custom',
          path: [part],
          message: present
            ? `${part} is listed in omitted but present`
            : `${part} is missing (not in omitted)`,
        });
    }
  }),
);

jsonSchemaExtras.set(ResultJson, {
  allOf: RESULT_PARTS.map((part) => ({
    if: { required: ['omitted'], properties: { omitted: { contains: { const: part } } } },
    // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
    then: { not: { required: [part] } },
    else: { required: [part] },
  })),
});
