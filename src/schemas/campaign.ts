import { INVARIANT_NAMES } from '../campaign/invariants.js';
import type { CampaignPart, CampaignReport } from '../campaign/run-campaign.js';
import { ALL_FAULT_CHOICES, type FaultPlacement, STAGING_POLICIES } from '../campaign/space.js';
import { PolicySchema } from '../kernel/policy.js';
import { CostModelOverridesSchema, MachineSpecSchema } from '../platform/machine-spec.js';
import { DeviceProfileSchema } from '../platform/mailbox/config.js';
import { PRESETS } from '../platform/presets.js';
import { numberIn, z } from '../zod.js';
import { DeviceProfileInputJson, MachineFileJson } from './parts.js';
import { Count, def, doc, exactly, Ns } from './wire.js';

// `campaign --json` (campaignJson() in src/campaign/campaign-output.ts) and a
// shard's part (`campaign --shard K/N --json`, CampaignPart in run-campaign.ts).

/**
 * The campaign report's schema name. Since every JSON output prints hex strings
 * (HEX_JSON_FIELDS), a failing run's `machineFile` holds its signature and
 * initial revision as "0xa06d1" where campaign@1 had numbers: a new shape, so @2.
 */
export const CAMPAIGN_SCHEMA = 'ucode-staging/campaign@2' satisfies CampaignReport['schema'];
export const CAMPAIGN_PART_SCHEMA = 'ucode-staging/campaign-part@1' satisfies CampaignPart['schema'];

const Rate = numberIn(0, 1);
const policy = PolicySchema.shape;
const cost = CostModelOverridesSchema.shape;
const spec = MachineSpecSchema.shape;
const presetNames = Object.keys(PRESETS) as [string, ...string[]];
const profileKinds = DeviceProfileSchema.def.options.map((o) => o.shape.kind.def.values[0]!);

const FaultChoiceJson = z.enum(ALL_FAULT_CHOICES);

/** CampaignSpace (src/campaign/space.ts). */
export const CampaignSpaceJson = def(
  'campaignSpace',
  z.strictObject({
    machines: z.array(
      z.discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('preset'), name: z.enum(presetNames) }),
        z.strictObject({ kind: z.literal('random') }),
      ]),
    ),
    random: doc(
      z.strictObject({
        maxPackages: spec.packages,
        maxCores: spec.coresPerPackage,
        threads: z.array(spec.threadsPerCore),
      }),
      'The range of the small random machines.',
    ),
    profiles: z.array(
      z.discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('family'), family: z.enum(profileKinds) }),
        z.strictObject({ kind: z.literal('exact'), profile: DeviceProfileInputJson }),
      ]),
    ),
    faults: z.array(FaultChoiceJson),
    placements: z.array(exactly<FaultPlacement>()(['at', 'probability'])),
    probabilities: z.array(Rate),
    policies: z.array(z.enum(STAGING_POLICIES)),
    budgets: z.array(policy.budget.def.innerType),
    dedupes: z.array(policy.dedupe.def.innerType),
    polls: z.array(policy.poll.def.innerType),
    kernels: z.array(cost.kernelGeneration.def.innerType),
    hz: z.array(cost.hz.def.innerType),
    imageBytes: doc(z.strictObject({ min: Count, max: Count }), 'Synthetic image size range in bytes.'),
    cpuFaultRate: Rate,
    offlineRate: Rate,
    slowApplyRate: Rate,
  }),
  'The space the runs are drawn from (CampaignSpace in src/campaign/space.ts).',
);

const ViolationJson = z.strictObject({ invariant: z.enum(INVARIANT_NAMES), message: z.string() });

const InvariantTallyJson = z.strictObject({
  name: z.enum(INVARIANT_NAMES),
  description: z.string(),
  checks: Count,
  violations: Count,
});

const rowCounts = {
  fault: doc(z.enum([...ALL_FAULT_CHOICES, 'all']), "The injected mailbox fault kind, or 'all' (the total)."),
  policy: doc(z.enum([...STAGING_POLICIES, 'all']), "The staging policy, or 'all' (the total)."),
  runs: Count,
  stagedOk: doc(Count, 'Staging succeeded on every package.'),
  fellBack: doc(Count, 'Staging failed and the load went on unstaged.'),
  aborted: Count,
  panicked: Count,
  hung: Count,
  doesNotTerminate: doc(
    Count,
    "Outcome 'kernel-does-not-terminate': the writing task loops in the kernel for ever.",
  ),
  violations: doc(Count, 'Runs with at least one violation.'),
};

const PercentilesJson = z.strictObject({ p50: Ns, p90: Ns, p99: Ns, max: Ns });

const TableRowJson = def(
  'tableRow',
  z.strictObject({
    ...rowCounts,
    stopWindowNs: doc(
      z.nullable(PercentilesJson),
      'Stop window percentiles in ns over the runs that stopped CPUs and came back (1 µs resolution); null when none did.',
    ),
  }),
  "One row of the campaign's table: a fault kind and policy.",
);

const OutcomesJson = doc(
  z.record(z.string(), Count),
  "Runs by outcome (a load outcome, or 'threw <Error>' when simulate() threw).",
);

const common = {
  seed: doc(Count, 'The campaign seed.'),
  runs: doc(Count, "The campaign's run count."),
};

const tallies = {
  invariants: z.array(InvariantTallyJson),
  failingCount: doc(Count, 'Runs with a violation (the first 1000 are listed in failing).'),
};

const totals = {
  outcomes: OutcomesJson,
  faultsInjected: doc(Count, 'Mailbox faults drawn into runs.'),
  faultsFired: doc(Count, 'Injected faults that took effect at least once.'),
  determinismChecks: doc(Count, 'Runs run twice and compared.'),
  wallMs: doc(z.number().check(z.minimum(0)), 'Wall time in ms.'),
};

export const CampaignJson = z.strictObject({
  schema: doc(z.literal(CAMPAIGN_SCHEMA), `"${CAMPAIGN_SCHEMA}"`),
  ...common,
  rows: z.array(TableRowJson),
  total: TableRowJson,
  ...tallies,
  failing: z.array(
    z.strictObject({
      index: Count,
      seed: doc(Count, "The run's seed (drawRun(space, seed) draws the run again)."),
      fault: FaultChoiceJson,
      policy: z.enum(STAGING_POLICIES),
      violations: z.array(ViolationJson),
      replay: doc(
        z.nullable(z.array(z.string())),
        'The command that replays the run, as argv; null when it needs a machine file nobody wrote (give --failing).',
      ),
      machineFile: doc(z.nullable(MachineFileJson), 'The machine file the replay needs, or null.'),
    }),
  ),
  ...totals,
  command: doc(z.string(), 'The command line of the campaign.'),
  space: CampaignSpaceJson,
});

const RowPartJson = z.strictObject({
  row: doc(
    z.strictObject({ ...rowCounts, doesNotTerminate: z.optional(rowCounts.doesNotTerminate) }),
    'The counts of a table row (parts written before doesNotTerminate was counted have none: merge takes 0).',
  ),
  windows: doc(
    z.array(z.tuple([Count, Count])),
    'Stop windows as a histogram: [window in µs (WINDOW_RESOLUTION_NS), runs].',
  ),
});

export const CampaignPartJson = z.strictObject({
  schema: z.literal(CAMPAIGN_PART_SCHEMA),
  ...common,
  start: doc(Count, 'The first run of the slice.'),
  end: doc(Count, 'The run after the last one of the slice.'),
  determinismEvery: doc(Count, 'Every n-th run is run twice (--check-every); 0: never.'),
  space: CampaignSpaceJson,
  rows: z.array(RowPartJson),
  total: RowPartJson,
  ...tallies,
  failing: z.array(z.strictObject({ index: Count, seed: Count, violations: z.array(ViolationJson) })),
  ...totals,
});
