import type { PackageOrder, SmtOrder } from '../probe/host-topology.js';
import type { LoaderFacts } from '../probe/kernel-loader.js';
import type { MsrFacts } from '../probe/msr-facts.js';
import { PROBE_SCHEMA, type ProbeReport } from '../probe/probe-report.js';
import { VERDICT_KINDS } from '../probe/verdict.js';
import { wholeNumber, z } from '../zod.js';
import { LoadOutcomeJson, NumericMachineFileJson } from './parts.js';
import { Count, def, doc, exactly, Hex, Ns, NsOrNull } from './wire.js';

// `probe --json` (ProbeReport in src/probe/probe-report.ts, docs/probe.md).

type Host = ProbeReport['host'];
type Update = NonNullable<ProbeReport['update']>;
type Staging = ProbeReport['staging'];

const BlobJson = def(
  'probeBlob',
  z.nullable(
    z.strictObject({
      index: Count,
      offset: Count,
      revision: Hex,
      date: z.nullable(z.string()),
      totalSize: Count,
      minRequiredRevision: Hex,
    }),
  ),
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

const Setting = (source: z.ZodMiniType) => z.strictObject({ value: z.boolean(), source });

export const ProbeJson = z.strictObject({
  schema: z.literal(PROBE_SCHEMA),
  root: doc(z.string(), "The folder the host's files were read under ('/' for the live host)."),
  verdict: z.strictObject({
    kind: z.enum(VERDICT_KINDS),
    summary: z.string(),
    reasons: z.array(z.string()),
    advice: z.nullable(z.string()),
    requiredRevision: doc(z.nullable(Hex), 'refused-minrev: the revision CPU 0 must run first.'),
    reloadReturns: z.nullable(z.string()),
    taints: z.nullable(z.boolean()),
    caveats: z.array(z.string()),
  }),
  exitStatus: doc(z.union([z.literal(0), z.literal(1)]), 'The exit status: 0 only for a safe verdict.'),
  host: z.strictObject({
    vendor: z.nullable(z.string()),
    modelName: z.nullable(z.string()),
    signature: z.nullable(Hex),
    fms: z.nullable(z.string()),
    platformId: z.nullable(wholeNumber(0, 7)),
    platformIdSource: z.nullable(exactly<NonNullable<Host['platformIdSource']>>()(['sysfs', 'msr'])),
    virtualization: exactly<Host['virtualization']>()(['bare-metal', 'vm-guest', 'unknown']),
    revisions: z.strictObject({
      cpu0: z.nullable(Hex),
      uniform: z.boolean(),
      packages: z.array(
        z.strictObject({
          package: Count,
          revision: doc(z.nullable(Hex), "The package's most common revision."),
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
      possibleList: z.nullable(z.string()),
      numbering: z.strictObject({
        packages: exactly<PackageOrder>()(['package-major', 'interleaved', 'single-package', 'irregular']),
        smt: exactly<SmtOrder>()(['last', 'adjacent', 'no-smt', 'irregular', 'unknown']),
      }),
      exact: z.boolean(),
      approximations: z.array(z.string()),
    }),
    kernel: z.strictObject({
      release: z.nullable(z.string()),
      hasStaging: z.nullable(z.boolean()),
      hasMinrevCheck: z.nullable(z.boolean()),
      lateLoading: exactly<LoaderFacts['lateLoading']>()([
        'compiled-in',
        'compiled-out',
        'always',
        'unknown',
      ]),
      microcodeConfig: z.nullable(z.boolean()),
      configSource: z.nullable(z.string()),
      forceMinrev: Setting(z.string()),
      disUcodeLdr: Setting(z.nullable(z.string())),
      hz: z.nullable(wholeNumber(1)),
      reloadFile: exactly<LoaderFacts['reloadFile']>()(['present', 'absent', 'unknown']),
    }),
  }),
  msrs: z.strictObject({
    access: exactly<MsrFacts['access']>()(['read', 'missing', 'unreadable', 'not-read']),
    why: z.nullable(z.string()),
    values: z.array(
      z.strictObject({ cpu: Count, msr: Hex, value: z.nullable(Hex), problem: z.nullable(z.string()) }),
    ),
  }),
  update: doc(
    z.nullable(
      z.strictObject({
        name: z.string(),
        file: doc(z.nullable(z.string()), 'The path the kernel would load, or null.'),
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
        rejection: doc(z.nullable(z.string()), "The failed check's kernel message, for a rejected file."),
      }),
    ),
    'What the kernel would find in the firmware; null when not applicable.',
  ),
  staging: z.strictObject({
    support: exactly<Staging['support']>()(['supported', 'not-supported', 'unknown']),
    why: z.string(),
    archCapMcuEnum: z.nullable(z.boolean()),
    mcuStaging: z.nullable(z.boolean()),
    kernelHasStaging: z.nullable(z.boolean()),
    passes: doc(z.nullable(Count), "The staging walk's pass count; null when the CPU has no staging."),
    passCpus: z.array(z.strictObject({ cpu: Count, package: Count })),
    mailboxes: z.array(
      z.strictObject({
        package: Count,
        cpu: Count,
        address: z.nullable(Hex),
        problem: z.nullable(z.string()),
      }),
    ),
  }),
  prediction: z.nullable(
    z.strictObject({
      hypothetical: z.nullable(z.string()),
      thisHost: exactly<NonNullable<ProbeReport['prediction']>['thisHost']>()([
        'with-staging',
        'without-staging',
        'unknown',
      ]),
      assumptions: z.string(),
      approximations: z.array(z.string()),
      withStaging: z.nullable(FiguresJson),
      withoutStaging: FiguresJson,
    }),
  ),
  machine: doc(
    z.nullable(NumericMachineFileJson),
    'The derived machine file, with numbers (not hex strings) for signature, initial revision and mailbox addresses, as --machine-out writes it; null for a non-Intel CPU or an unreadable topology.',
  ),
  notes: z.array(z.string()),
});
