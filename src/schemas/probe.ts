import { z } from 'zod';
import type { PackageOrder, SmtOrder } from '../probe/host-topology.js';
import type { LoaderFacts } from '../probe/kernel-loader.js';
import type { MsrFacts } from '../probe/msr-facts.js';
import { PROBE_SCHEMA, type ProbeReport } from '../probe/probe-report.js';
import { VERDICT_KINDS } from '../probe/verdict.js';
import { LoadOutcomeJson, NumericMachineFileJson } from './parts.js';
import { Count, def, doc, exactly, Hex, Ns, NsOrNull } from './wire.js';

// `probe --json` (ProbeReport in src/probe/probe-report.ts, docs/probe.md).

type Host = ProbeReport['host'];
type Update = NonNullable<ProbeReport['update']>;
type Staging = ProbeReport['staging'];

const BlobJson = def(
  'probeBlob',
  z
    .strictObject({
      index: Count,
      offset: Count,
      revision: Hex,
      date: z.string().nullable(),
      totalSize: Count,
      minRequiredRevision: Hex,
    })
    .nullable(),
  'A blob of the firmware file, or null.',
);

const FiguresJson = def(
  'probeFigures',
  z.strictObject({
    outcome: LoadOutcomeJson,
    reloadReturns: doc(z.string(), 'What the write to reload would return: "0", "-ENOENT", ...'),
    stopWindowNs: NsOrNull,
    stagingNs: Ns,
    reloadNs: Ns,
    stagingPasses: Count,
    stagingOk: z.boolean(),
  }),
  'The figures of one predicted run.',
);

const Setting = (source: z.ZodType) => z.strictObject({ value: z.boolean(), source });

export const ProbeJson = z.strictObject({
  schema: z.literal(PROBE_SCHEMA),
  root: doc(z.string(), "The folder the host's files were read under ('/' for the live host)."),
  verdict: z.strictObject({
    kind: z.enum(VERDICT_KINDS),
    summary: z.string(),
    reasons: z.array(z.string()),
    advice: z.string().nullable(),
    requiredRevision: doc(Hex.nullable(), 'refused-minrev: the revision CPU 0 must run first.'),
    reloadReturns: z.string().nullable(),
    taints: z.boolean().nullable(),
    caveats: z.array(z.string()),
  }),
  exitStatus: doc(z.union([z.literal(0), z.literal(1)]), 'The exit status: 0 only for a safe verdict.'),
  host: z.strictObject({
    vendor: z.string().nullable(),
    modelName: z.string().nullable(),
    signature: Hex.nullable(),
    fms: z.string().nullable(),
    platformId: z.number().int().min(0).max(7).nullable(),
    platformIdSource: exactly<NonNullable<Host['platformIdSource']>>()(['sysfs', 'msr']).nullable(),
    virtualization: exactly<Host['virtualization']>()(['bare-metal', 'vm-guest', 'unknown']),
    revisions: z.strictObject({
      cpu0: Hex.nullable(),
      uniform: z.boolean(),
      packages: z.array(
        z.strictObject({
          package: Count,
          revision: doc(Hex.nullable(), "The package's most common revision."),
          cpus: doc(Count, 'Online CPUs of the package.'),
          differing: z.array(z.strictObject({ cpu: Count, revision: Hex })),
        }),
      ),
    }),
    topology: z.strictObject({
      packages: Count,
      coresPerPackage: Count,
      threadsPerCore: Count,
      present: Count,
      online: Count,
      onlineList: z.string(),
      offlineList: z.string(),
      possibleList: z.string().nullable(),
      numbering: z.strictObject({
        packages: exactly<PackageOrder>()(['package-major', 'interleaved', 'single-package', 'irregular']),
        smt: exactly<SmtOrder>()(['last', 'adjacent', 'no-smt', 'irregular', 'unknown']),
      }),
      exact: z.boolean(),
      approximations: z.array(z.string()),
    }),
    kernel: z.strictObject({
      release: z.string().nullable(),
      hasStaging: z.boolean().nullable(),
      hasMinrevCheck: z.boolean().nullable(),
      lateLoading: exactly<LoaderFacts['lateLoading']>()([
        'compiled-in',
        'compiled-out',
        'always',
        'unknown',
      ]),
      microcodeConfig: z.boolean().nullable(),
      configSource: z.string().nullable(),
      forceMinrev: Setting(z.string()),
      disUcodeLdr: Setting(z.string().nullable()),
      hz: z.number().int().min(1).nullable(),
      reloadFile: exactly<LoaderFacts['reloadFile']>()(['present', 'absent', 'unknown']),
    }),
  }),
  msrs: z.strictObject({
    access: exactly<MsrFacts['access']>()(['read', 'missing', 'unreadable', 'not-read']),
    why: z.string().nullable(),
    values: z.array(
      z.strictObject({ cpu: Count, msr: Hex, value: Hex.nullable(), problem: z.string().nullable() }),
    ),
  }),
  update: doc(
    z
      .strictObject({
        name: z.string(),
        file: doc(z.string().nullable(), 'The path the kernel would load, or null.'),
        searched: z.array(z.string()),
        status: exactly<Update['status']>()([
          'new-safe',
          'new-unsafe',
          'refused-minrev',
          'already-current',
          'no-match',
          'no-file',
          'rejected',
        ]),
        reason: z.string(),
        currentRevision: doc(Hex, "CPU 0's revision."),
        blob: BlobJson,
        refusedBlob: BlobJson,
        newest: BlobJson,
        rejection: doc(z.string().nullable(), "The failed check's kernel message, for a rejected file."),
      })
      .nullable(),
    'What the kernel would find in the firmware; null when not applicable.',
  ),
  staging: z.strictObject({
    support: exactly<Staging['support']>()(['supported', 'not-supported', 'unknown']),
    why: z.string(),
    archCapMcuEnum: z.boolean().nullable(),
    mcuStaging: z.boolean().nullable(),
    kernelHasStaging: z.boolean().nullable(),
    passes: doc(Count.nullable(), "The staging walk's pass count; null when the CPU has no staging."),
    passCpus: z.array(z.strictObject({ cpu: Count, package: Count })),
    mailboxes: z.array(
      z.strictObject({
        package: Count,
        cpu: Count,
        address: Hex.nullable(),
        problem: z.string().nullable(),
      }),
    ),
  }),
  prediction: z
    .strictObject({
      hypothetical: z.string().nullable(),
      thisHost: exactly<NonNullable<ProbeReport['prediction']>['thisHost']>()([
        'with-staging',
        'without-staging',
        'unknown',
      ]),
      assumptions: z.string(),
      approximations: z.array(z.string()),
      withStaging: FiguresJson.nullable(),
      withoutStaging: FiguresJson,
    })
    .nullable(),
  machine: doc(
    NumericMachineFileJson.nullable(),
    'The derived machine file, with numbers (not hex strings) for signature, initial revision and mailbox addresses, as --machine-out writes it; null for a non-Intel CPU or an unreadable topology.',
  ),
  notes: z.array(z.string()),
});
