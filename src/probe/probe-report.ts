import { hex } from '../format/hex.js';
import type { CostModelOverrides, MachineSpecInput } from '../platform/machine-spec.js';
import { formatCpuList } from '../sim/run-args.js';
import { deriveMachine, offlinePrimaryThreads } from './derived-machine.js';
import { type HostFacts, INTEL, readHostFacts } from './host-facts.js';
import type { HostFiles } from './host-files.js';
import { MSR } from './msr-facts.js';
import { type Prediction, type PredictionFigures, predict } from './prediction.js';
import { readStagingFacts, type StagingFacts } from './staging-facts.js';
import { type BlobSummary, findUpdate, type UpdateFacts } from './update.js';
import { confirmWithModel, judge, type Verdict, type VerdictKind } from './verdict.js';

export const PROBE_SCHEMA = 'ucode-staging/probe@1';

/** A 32-bit value, revision or address as the report prints it: "0x10003a2". */
type Hex = string;

export interface ProbeBlobJson {
  index: number;
  offset: number;
  revision: Hex;
  date: string | null;
  totalSize: number;
  minRequiredRevision: Hex;
}

export interface ProbeFiguresJson {
  outcome: string;
  reloadReturns: string;
  stopWindowNs: number | null;
  stagingNs: number;
  reloadNs: number;
  stagingPasses: number;
  stagingOk: boolean;
}

/** The whole `probe --json` document (docs/probe.md describes every field). */
export interface ProbeReport {
  schema: typeof PROBE_SCHEMA;
  /** The folder the host's files were read under ('/' for the live host). */
  root: string;
  verdict: {
    kind: VerdictKind;
    summary: string;
    reasons: string[];
    advice: string | null;
    requiredRevision: Hex | null;
    reloadReturns: string | null;
    taints: boolean | null;
    caveats: string[];
  };
  /** 0: a late load would update this host safely; 1: any other verdict. */
  exitStatus: 0 | 1;
  host: {
    vendor: string | null;
    modelName: string | null;
    signature: Hex | null;
    fms: string | null;
    platformId: number | null;
    platformIdSource: 'sysfs' | 'msr' | null;
    virtualization: 'bare-metal' | 'vm-guest' | 'unknown';
    revisions: {
      cpu0: Hex | null;
      uniform: boolean;
      packages: {
        package: number;
        revision: Hex | null;
        cpus: number;
        differing: { cpu: number; revision: Hex }[];
      }[];
    };
    topology: {
      packages: number;
      coresPerPackage: number;
      threadsPerCore: number;
      present: number;
      online: number;
      onlineList: string;
      offlineList: string;
      possibleList: string | null;
      numbering: { packages: string; smt: string };
      exact: boolean;
      approximations: string[];
    };
    kernel: {
      release: string | null;
      hasStaging: boolean | null;
      hasMinrevCheck: boolean | null;
      lateLoading: string;
      microcodeConfig: boolean | null;
      configSource: string | null;
      forceMinrev: { value: boolean; source: string };
      disUcodeLdr: { value: boolean; source: string | null };
      hz: number | null;
      reloadFile: string;
    };
  };
  msrs: {
    access: string;
    why: string | null;
    values: { cpu: number; msr: Hex; value: Hex | null; problem: string | null }[];
  };
  update: {
    name: string;
    file: string | null;
    searched: string[];
    status: UpdateFacts['status'];
    reason: string;
    currentRevision: Hex;
    blob: ProbeBlobJson | null;
    refusedBlob: ProbeBlobJson | null;
    newest: ProbeBlobJson | null;
    rejection: string | null;
  } | null;
  staging: {
    support: StagingFacts['support'];
    why: string;
    archCapMcuEnum: boolean | null;
    mcuStaging: boolean | null;
    kernelHasStaging: boolean | null;
    /** Passes of the kernel's staging walk on this numbering; null when the CPU has no staging. */
    passes: number | null;
    passCpus: { cpu: number; package: number }[];
    mailboxes: { package: number; cpu: number; address: Hex | null; problem: string | null }[];
  };
  prediction: {
    hypothetical: string | null;
    thisHost: Prediction['thisHost'];
    assumptions: string;
    approximations: string[];
    withStaging: ProbeFiguresJson | null;
    withoutStaging: ProbeFiguresJson;
  } | null;
  /** The derived machine file (numbers, as `simulate -m` reads it); null for a non-Intel CPU or an unreadable topology. */
  machine: MachineSpecInput | null;
  /** What could not be read, or held garbage. */
  notes: string[];
}

export interface ProbeOptions {
  /** Where the files were read (shown in the report). Default '/'. */
  root?: string;
  /** --firmware DIR: only that folder is searched, and it is named in the report. */
  firmwareDir?: string;
  /** --cost and --hz: laid over the cost model of the prediction. */
  cost?: CostModelOverrides;
}

export interface ProbeResult {
  report: ProbeReport;
  facts: HostFacts;
  /** The machine file `--machine-out` writes (also `report.machine`). */
  machine: MachineSpecInput | null;
}

/** What a late load would do on the host whose files these are: facts, verdict and prediction. */
export function probeHost(files: HostFiles, opts: ProbeOptions = {}): ProbeResult {
  const facts = readHostFacts(files, { firmwareFolderOnly: opts.firmwareDir !== undefined });
  const staging = readStagingFacts(facts);
  const update = updateOf(facts);
  let verdict = judge(facts, update);
  // The model is Intel's loader on an Intel machine: no machine for other vendors.
  const modelled = facts.identity.vendor === INTEL && facts.topology.cpus.length > 0;
  const derived = modelled ? deriveMachine(facts, staging, { cost: opts.cost }) : null;
  const prediction = predictionFor(verdict, update, derived, staging, facts, opts.cost);
  if (derived) verdict = confirmWithModel(verdict, prediction, offlinePrimaryThreads(derived.machine));
  const shownUpdate = verdict.kind === 'not-applicable' ? null : update;
  const report = buildReport({
    facts,
    staging,
    update: shownUpdate,
    verdict,
    prediction,
    opts,
    machine: derived?.machine ?? null,
  });
  return { report, facts, machine: derived?.machine ?? null };
}

export function probeExitStatus(kind: VerdictKind): 0 | 1 {
  return kind === 'safe' ? 0 : 1;
}

/** The update the kernel would pick for the host, or null when it cannot look (not Intel, no firmware, no revision). */
export function updateOf(facts: HostFacts): UpdateFacts | null {
  const { identity, firmware, firmwareName, bootRevision, loader } = facts;
  if (identity.vendor !== INTEL || firmware === null || firmwareName === null || identity.signature === null)
    return null;
  if (bootRevision === null) return null;
  return findUpdate(
    firmwareName,
    firmware,
    { signature: identity.signature, platformId: facts.platformId.value ?? 0, revision: bootRevision },
    { forceMinrev: loader.forceMinrev.value, minrevCheck: loader.hasMinrevCheck ?? true },
  );
}

/**
 * What the model runs for a verdict: the firmware, the force_minrev setting and
 * the "what if" the run answers (a refused or impossible load is run as if it
 * were allowed), or null when no run says anything about this host.
 */
export function predictionInput(
  verdict: Verdict,
  update: UpdateFacts | null,
  facts: HostFacts,
): { firmware: Uint8Array; forceMinrev: boolean; hypothetical: string | null } | null {
  const firmware = update?.file.bytes;
  if (!firmware || !update) return null;
  const forceMinrev = facts.loader.forceMinrev.value;
  switch (verdict.kind) {
    case 'safe':
    case 'unsafe':
      return { firmware, forceMinrev, hypothetical: null };
    case 'refused-minrev':
      return {
        firmware,
        forceMinrev: false,
        hypothetical: 'if force_minrev were off (the load would then be unsafe and taint the kernel)',
      };
    case 'cannot-late-load':
      return update.blob === null
        ? null
        : { firmware, forceMinrev, hypothetical: 'on a kernel that can late-load' };
    default:
      return null;
  }
}

function predictionFor(
  verdict: Verdict,
  update: UpdateFacts | null,
  derived: ReturnType<typeof deriveMachine> | null,
  staging: StagingFacts,
  facts: HostFacts,
  cost: CostModelOverrides | undefined,
): Prediction | null {
  const input = predictionInput(verdict, update, facts);
  if (!derived || !input) return null;
  return predict({ derived, staging, ...input, exactTopology: facts.topology.exact, costOverrides: cost });
}

function blobJson(b: BlobSummary | null): ProbeBlobJson | null {
  if (b === null) return null;
  return { ...b, revision: hex(b.revision), minRequiredRevision: hex(b.minRequiredRevision) };
}

/** A model run's figures as the probe report (and the fleet) print them. */
export function figuresJson(f: PredictionFigures): ProbeFiguresJson {
  return {
    outcome: f.outcome,
    reloadReturns: f.returnCodeName,
    stopWindowNs: f.stopWindowNs,
    stagingNs: f.stagingNs,
    reloadNs: f.reloadNs,
    stagingPasses: f.stagingPasses,
    stagingOk: f.stagingOk,
  };
}

function revisionsJson(facts: HostFacts): ProbeReport['host']['revisions'] {
  const online = facts.topology.cpus.filter((c) => c.online);
  const byPackage = new Map<number, typeof online>();
  for (const c of online) {
    const p = c.pkg ?? 0;
    byPackage.set(p, [...(byPackage.get(p) ?? []), c]);
  }
  const packages = [...byPackage]
    .sort((a, b) => a[0] - b[0])
    .map(([pkg, cpus]) => {
      const counts = new Map<number, number>();
      for (const c of cpus)
        if (c.revision !== null) counts.set(c.revision, (counts.get(c.revision) ?? 0) + 1);
      const common = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? null;
      return {
        package: pkg,
        revision: common === null ? null : hex(common),
        cpus: cpus.length,
        differing: cpus
          .filter((c) => c.revision !== null && c.revision !== common)
          .map((c) => ({ cpu: c.cpu, revision: hex(c.revision!) })),
      };
    });
  const all = new Set(online.map((c) => c.revision).filter((r) => r !== null));
  return {
    cpu0: facts.bootRevision === null ? null : hex(facts.bootRevision),
    uniform: all.size <= 1,
    packages,
  };
}

interface ReportParts {
  facts: HostFacts;
  staging: StagingFacts;
  update: UpdateFacts | null;
  verdict: Verdict;
  prediction: Prediction | null;
  opts: ProbeOptions;
  machine: MachineSpecInput | null;
}

function buildReport(p: ReportParts): ProbeReport {
  const { facts, staging, update, verdict, prediction, opts } = p;
  const { identity, topology, loader, msrs } = facts;
  const v = verdict;
  return {
    schema: PROBE_SCHEMA,
    root: opts.root ?? '/',
    verdict: {
      kind: v.kind,
      summary: v.summary,
      reasons: v.reasons,
      advice: v.advice,
      requiredRevision: v.requiredRevision === null ? null : hex(v.requiredRevision),
      reloadReturns: v.reloadReturns,
      taints: v.taints,
      caveats: v.caveats,
    },
    exitStatus: probeExitStatus(v.kind),
    host: {
      vendor: identity.vendor,
      modelName: identity.modelName,
      signature: identity.signature === null ? null : hex(identity.signature),
      fms: identity.fms,
      platformId: facts.platformId.value,
      platformIdSource: facts.platformId.source,
      virtualization:
        identity.hypervisor === null ? 'unknown' : identity.hypervisor ? 'vm-guest' : 'bare-metal',
      revisions: revisionsJson(facts),
      topology: {
        packages: topology.packages,
        coresPerPackage: topology.coresPerPackage,
        threadsPerCore: topology.threadsPerCore,
        present: topology.cpus.length,
        online: topology.cpus.filter((c) => c.online).length,
        onlineList: formatCpuList(topology.cpus.filter((c) => c.online).map((c) => c.cpu)),
        offlineList: formatCpuList(topology.offline),
        possibleList: topology.lists.possible === null ? null : formatCpuList(topology.lists.possible),
        numbering: topology.order,
        exact: topology.exact,
        approximations: topology.approximations,
      },
      kernel: {
        release: loader.kernel?.release ?? null,
        hasStaging: loader.hasStaging,
        hasMinrevCheck: loader.hasMinrevCheck,
        lateLoading: loader.lateLoading,
        microcodeConfig: loader.microcode,
        configSource: loader.configSource,
        forceMinrev: loader.forceMinrev,
        disUcodeLdr: loader.disUcodeLdr,
        hz: loader.hz,
        reloadFile: loader.reloadFile,
      },
    },
    msrs: {
      access: msrs.access,
      why: msrs.why,
      values: msrs.values.map((m) => ({
        cpu: m.cpu,
        msr: hex(m.register),
        value: m.value === null ? null : `0x${m.value.toString(16)}`,
        problem: m.problem,
      })),
    },
    update:
      update === null
        ? null
        : {
            name: update.name,
            file: displayPath(update.file.path, opts.firmwareDir),
            searched: update.file.searched.map((s) => displayPath(s, opts.firmwareDir)!),
            status: update.status,
            reason: update.reason,
            currentRevision: hex(update.currentRevision),
            blob: blobJson(update.blob),
            refusedBlob: blobJson(update.refusedBlob),
            newest: blobJson(update.newest),
            rejection: update.rejection,
          },
    staging: {
      support: staging.support,
      why: staging.why,
      archCapMcuEnum: staging.archCapMcuEnum,
      mcuStaging: staging.mcuStaging,
      kernelHasStaging: staging.kernelHasStaging,
      passes: staging.support === 'not-supported' ? null : staging.passes.length,
      passCpus:
        staging.support === 'not-supported'
          ? []
          : staging.passes.map((s) => ({ cpu: s.cpu, package: s.pkg })),
      mailboxes: staging.mailboxes.map((m) => ({
        package: m.pkg,
        cpu: m.cpu,
        address: m.address === null ? null : hex(m.address),
        problem: m.problem,
      })),
    },
    prediction:
      prediction === null
        ? null
        : {
            hypothetical: prediction.hypothetical,
            thisHost: prediction.thisHost,
            assumptions: prediction.assumptions,
            approximations: prediction.approximations,
            withStaging: prediction.withStaging === null ? null : figuresJson(prediction.withStaging),
            withoutStaging: figuresJson(prediction.withoutStaging),
          },
    machine: p.machine,
    notes: notesOf(facts, v.kind),
  };
}

/** A firmware path as the user knows it: under --firmware DIR when one was given. */
function displayPath(path: string | null, firmwareDir: string | undefined): string | null {
  if (path === null || firmwareDir === undefined) return path;
  return path.replace(/^\/lib\/firmware\/intel-ucode\//, `${firmwareDir.replace(/\/+$/, '')}/`);
}

function notesOf(facts: HostFacts, kind: VerdictKind): string[] {
  const notes = [...facts.identity.problems, ...facts.loader.problems, ...facts.topology.problems];
  if (facts.identity.vendor === INTEL && facts.msrs.why !== null && kind !== 'not-applicable')
    notes.push(
      `MSRs ${[MSR.archCapabilities, MSR.mcuEnumeration, MSR.stagingMailbox, MSR.platformId].map((m) => hex(m)).join(', ')}: ${facts.msrs.why}`,
    );
  return [...new Set(notes)];
}
