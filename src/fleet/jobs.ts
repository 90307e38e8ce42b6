import { hex } from '../format/hex.js';
import { fmsFileName } from '../format/index.js';
import type { CostModelOverrides, MachineSpec, MachineSpecInput } from '../platform/machine-spec.js';
import { parseMachineSpec } from '../platform/machine-spec.js';
import type { DerivedMachine } from '../probe/derived-machine.js';
import { deriveMachine, offlinePrimaryThreads } from '../probe/derived-machine.js';
import type { FirmwareFile } from '../probe/firmware-search.js';
import { type HostFacts, INTEL, readHostFacts } from '../probe/host-facts.js';
import type { HostFiles } from '../probe/host-files.js';
import { type Prediction, predict } from '../probe/prediction.js';
import { figuresJson, predictionInput, updateOf } from '../probe/probe-report.js';
import { readStagingFacts, type StagingFacts } from '../probe/staging-facts.js';
import { findUpdate, type UpdateFacts } from '../probe/update.js';
import { confirmWithModel, judge, type Verdict, verdict } from '../probe/verdict.js';
import { syntheticImageFor } from '../sim/synthetic.js';
import type { HostSummary } from './summary.js';

// A host whose summary needs the model (a saved probe tree, an inventory row) becomes a job:
// plain data, so it can run in a worker thread, and keyed, so equal hosts run once.

type StagingSupport = StagingFacts['support'];

/** A saved probe tree after the probe's reading and judging, before the model runs. */
export interface TreeJob {
  kind: 'tree';
  /** The verdict before the model (confirmWithModel may turn it into 'aborted'). */
  verdict: Verdict;
  base: Omit<HostSummary, 'verdict' | 'prediction'>;
  derived: DerivedMachine;
  staging: { support: StagingSupport; kernelHasStaging: boolean | null };
  firmware: Uint8Array;
  forceMinrev: boolean;
  hypothetical: string | null;
  exactTopology: boolean;
  cost: CostModelOverrides | null;
  offlinePrimaries: number[];
}

/** What an inventory row's kernel column says. */
export interface InventoryKernel {
  release: string;
  hasStaging: boolean;
  hasMinrevCheck: boolean;
  generation: '6.12+' | 'pre-6.12';
}

/** The image of an inventory row: a file's bytes, a folder without the CPU's file, or synthetic. */
export type InventoryImage =
  | { kind: 'file'; path: string; bytes: Uint8Array }
  | { kind: 'missing'; path: string }
  | { kind: 'synthetic' };

/** An inventory row's host: a machine (validated), its kernel and image. */
export interface InventoryJob {
  kind: 'inventory';
  /** The preset's or machine file's name (shown as the model). */
  label: string;
  /** The machine with the row's revision, HZ, kernel generation and the fleet's cost laid over it. */
  machine: MachineSpecInput;
  kernel: InventoryKernel;
  image: InventoryImage;
  forceMinrev: boolean;
  lateLoading: boolean;
  cost: CostModelOverrides | null;
}

export type FleetJob = TreeJob | InventoryJob;

/** A short fingerprint of bytes (two 32-bit multiplicative hashes and the length). */
export function fingerprint(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  const words = bytes.length >>> 2;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < words; i++) {
    const w = view.getUint32(i * 4, true);
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b + w, 0x85ebca6b) ^ (b >>> 13);
  }
  for (let i = words * 4; i < bytes.length; i++) a = Math.imul(a ^ bytes[i]!, 0x01000193);
  return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}-${bytes.length}`;
}

const fingerprints = new WeakMap<Uint8Array, string>();

function cachedFingerprint(bytes: Uint8Array): string {
  let f = fingerprints.get(bytes);
  if (f === undefined) {
    f = fingerprint(bytes);
    fingerprints.set(bytes, f);
  }
  return f;
}

/** Equal keys, equal results: the job's data with the image replaced by its fingerprint. */
export function jobKey(job: FleetJob): string {
  if (job.kind === 'tree') return JSON.stringify({ ...job, firmware: cachedFingerprint(job.firmware) });
  const image =
    job.image.kind === 'file' ? { kind: 'file', fingerprint: cachedFingerprint(job.image.bytes) } : job.image;
  return JSON.stringify({ ...job, image });
}

function predictionSummary(p: Prediction | null): HostSummary['prediction'] {
  if (p === null) return null;
  return {
    hypothetical: p.hypothetical,
    thisHost: p.thisHost,
    withStaging: p.withStaging === null ? null : figuresJson(p.withStaging),
    withoutStaging: figuresJson(p.withoutStaging),
    assumptions: p.assumptions,
  };
}

function verdictSummary(v: Verdict): HostSummary['verdict'] {
  return { kind: v.kind, summary: v.summary, taints: v.taints, reloadReturns: v.reloadReturns };
}

function stagingFacts(s: TreeJob['staging']): StagingFacts {
  return {
    support: s.support,
    why: '',
    archCapMcuEnum: null,
    mcuStaging: null,
    kernelHasStaging: s.kernelHasStaging,
    passes: [],
    mailboxes: [],
  };
}

/** Run a job: the model's two runs (with and without staging) and the verdict they confirm. */
export function runFleetJob(job: FleetJob): HostSummary {
  return job.kind === 'tree' ? runTreeJob(job) : runInventoryJob(job);
}

function runTreeJob(job: TreeJob): HostSummary {
  const prediction = predict({
    derived: job.derived,
    staging: stagingFacts(job.staging),
    firmware: job.firmware,
    forceMinrev: job.forceMinrev,
    hypothetical: job.hypothetical,
    exactTopology: job.exactTopology,
    ...(job.cost !== null ? { costOverrides: job.cost } : {}),
  });
  const verdict = confirmWithModel(job.verdict, prediction, job.offlinePrimaries);
  return { verdict: verdictSummary(verdict), ...job.base, prediction: predictionSummary(prediction) };
}

// ---- saved probe trees ----

function baseOfFacts(facts: HostFacts, update: UpdateFacts | null, staging: StagingFacts): TreeJob['base'] {
  const { identity, topology, loader } = facts;
  const blob = update?.blob ?? update?.refusedBlob ?? null;
  const online = topology.cpus.filter((c) => c.online).length;
  return {
    vendor: identity.vendor,
    model: identity.modelName,
    signature: identity.signature === null ? null : hex(identity.signature),
    revision: facts.bootRevision === null ? null : hex(facts.bootRevision),
    topology:
      topology.cpus.length === 0
        ? null
        : {
            packages: topology.packages,
            coresPerPackage: topology.coresPerPackage,
            threadsPerCore: topology.threadsPerCore,
            cpus: topology.cpus.length,
            online,
            numbering: `${topology.order.packages}/${topology.order.smt}`,
          },
    kernel: { release: loader.kernel?.release ?? null, hz: loader.hz, hasStaging: loader.hasStaging },
    update: blob === null ? null : { revision: hex(blob.revision), imageBytes: blob.totalSize },
    staging: { support: staging.support, kernelHasStaging: staging.kernelHasStaging },
  };
}

/**
 * A saved probe tree (`probe --save`), read as `probe --root` reads it: the same facts, verdict
 * and prediction inputs (src/probe), with the model's runs left to a job so that trees of one
 * shape run it once. A host the model does not cover has its summary at once.
 */
export function treeEntry(
  files: HostFiles,
  opts: { firmwareFolderOnly?: boolean; cost?: CostModelOverrides | null } = {},
): { summary: HostSummary } | { job: TreeJob } {
  const facts = readHostFacts(files, { firmwareFolderOnly: opts.firmwareFolderOnly ?? false });
  const staging = readStagingFacts(facts);
  const update = updateOf(facts);
  const verdict = judge(facts, update);
  const base = baseOfFacts(facts, update, staging);
  const shownBase = verdict.kind === 'not-applicable' ? { ...base, update: null } : base;
  const modelled = facts.identity.vendor === INTEL && facts.topology.cpus.length > 0;
  const cost = opts.cost ?? undefined;
  const derived = modelled ? deriveMachine(facts, staging, { cost }) : null;
  const input = derived === null ? null : predictionInput(verdict, update, facts);
  if (derived === null || input === null)
    return { summary: { verdict: verdictSummary(verdict), ...shownBase, prediction: null } };
  return {
    job: {
      kind: 'tree',
      verdict,
      base: shownBase,
      derived,
      staging: { support: staging.support, kernelHasStaging: staging.kernelHasStaging },
      ...input,
      exactTopology: facts.topology.exact,
      cost: opts.cost ?? null,
      offlinePrimaries: offlinePrimaryThreads(derived.machine),
    },
  };
}

// ---- inventory rows ----

/** The verdict of an inventory host from its update, in the probe's terms (src/probe/verdict.ts). */
export function inventoryVerdict(update: UpdateFacts, lateLoading: boolean): Verdict {
  if (!lateLoading)
    return verdict(
      'cannot-late-load',
      'cannot late-load on this kernel: late loading is off (the inventory says so)',
      { reasons: ['late loading is off (the inventory says so)'] },
    );
  const blob = update.blob;
  switch (update.status) {
    case 'no-file':
    case 'no-match':
    case 'already-current':
      return verdict('no-update', `no update: ${update.reason}`, {
        reasons: [update.reason],
        reloadReturns: '-ENOENT',
      });
    case 'rejected':
      return verdict('no-update', `no update: ${update.file.path} would be rejected`, {
        reasons: [update.reason, ...(update.rejection ? [`failed check: ${update.rejection}`] : [])],
        reloadReturns: '-EBADFD',
      });
    case 'refused-minrev':
      return verdict(
        'refused-minrev',
        'would be refused by the minimum-revision rule (force_minrev is on): reload returns -ENOENT',
        {
          reasons: [update.reason],
          reloadReturns: '-ENOENT',
          taints: false,
          requiredRevision: update.refusedBlob!.minRequiredRevision,
        },
      );
    case 'new-unsafe':
      return verdict(
        'unsafe',
        `would load ${hex(update.currentRevision)} -> ${hex(blob!.revision)} as unsafe and taint the kernel`,
        { reasons: [update.reason], reloadReturns: '0', taints: true },
      );
    case 'new-safe':
      return verdict('safe', `would load ${hex(update.currentRevision)} -> ${hex(blob!.revision)} safely`, {
        reasons: [update.reason],
        reloadReturns: '0',
        taints: false,
      });
  }
}

function inventoryImage(job: InventoryJob, spec: MachineSpec): FirmwareFile {
  switch (job.image.kind) {
    case 'file':
      return { path: job.image.path, bytes: job.image.bytes, searched: [job.image.path], problems: [] };
    case 'missing':
      return { path: null, bytes: null, searched: [job.image.path], problems: [] };
    case 'synthetic': {
      const bytes = syntheticImage(spec);
      return { path: 'synthetic', bytes, searched: ['synthetic'], problems: [] };
    }
  }
}

interface Template {
  initialRevision: number;
  bytes: Uint8Array;
  /** Patching was checked against a fresh build once (true), found wrong (false), or not yet. */
  checked: boolean | null;
}

const templates = new Map<string, Template>();

function patched(t: Template, initialRevision: number): Uint8Array {
  const bytes = new Uint8Array(t.bytes);
  const view = new DataView(bytes.buffer);
  const from = view.getUint32(4, true);
  const to = (from + initialRevision - t.initialRevision) >>> 0;
  view.setUint32(4, to, true);
  view.setUint32(16, (view.getUint32(16, true) - (to - from)) >>> 0, true);
  return bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * syntheticImageFor(spec), byte for byte, without building 1.6 MB for every revision: the
 * images of one CPU (signature, platform) differ between revisions in the revision field and
 * the checksum that makes every dword sum to zero. The first patched image of a CPU is checked
 * against a fresh build; if they differ, that CPU's images are always built.
 */
export function syntheticImage(
  spec: Pick<MachineSpec, 'signature' | 'platformId' | 'initialRevision'>,
): Uint8Array {
  const key = `${spec.signature}:${spec.platformId}`;
  const t = templates.get(key);
  if (t === undefined) {
    const bytes = syntheticImageFor(spec);
    if (templates.size >= 64) templates.clear();
    templates.set(key, { initialRevision: spec.initialRevision, bytes, checked: null });
    return new Uint8Array(bytes);
  }
  if (t.initialRevision === spec.initialRevision) return new Uint8Array(t.bytes);
  if (t.checked === false) return syntheticImageFor(spec);
  const bytes = patched(t, spec.initialRevision);
  if (t.checked === null) {
    const built = syntheticImageFor(spec);
    t.checked = sameBytes(bytes, built);
    return built;
  }
  return bytes;
}

function runInventoryJob(job: InventoryJob): HostSummary {
  const spec = parseMachineSpec(job.machine);
  const name = `intel-ucode/${fmsFileName(spec.signature)}`;
  const file = inventoryImage(job, spec);
  const update = findUpdate(
    name,
    file,
    { signature: spec.signature, platformId: spec.platformId, revision: spec.initialRevision },
    { forceMinrev: job.forceMinrev, minrevCheck: job.kernel.hasMinrevCheck },
  );
  let verdict = inventoryVerdict(update, job.lateLoading);
  const support: StagingSupport =
    spec.staging.archCapMcuEnum && spec.staging.mcuStaging ? 'supported' : 'not-supported';
  const blob = update.blob ?? update.refusedBlob;
  const cpus = spec.packages * spec.coresPerPackage * spec.threadsPerCore;
  const base: TreeJob['base'] = {
    vendor: INTEL,
    model: job.label,
    signature: hex(spec.signature),
    revision: hex(spec.initialRevision),
    topology: {
      packages: spec.packages,
      coresPerPackage: spec.coresPerPackage,
      threadsPerCore: spec.threadsPerCore,
      cpus,
      online: cpus - new Set(spec.offlineCpus).size,
      numbering: `${spec.numbering.packages}/${spec.numbering.smt}`,
    },
    kernel: { release: job.kernel.release, hz: spec.cost.hz ?? 1000, hasStaging: job.kernel.hasStaging },
    update: blob === null ? null : { revision: hex(blob.revision), imageBytes: blob.totalSize },
    staging: { support, kernelHasStaging: job.kernel.hasStaging },
  };
  let hypothetical: string | null = null;
  let forceMinrev = job.forceMinrev;
  let predicted = file.bytes !== null;
  switch (verdict.kind) {
    case 'safe':
    case 'unsafe':
      break;
    case 'refused-minrev':
      hypothetical = 'if force_minrev were off (the load would then be unsafe and taint the kernel)';
      forceMinrev = false;
      break;
    case 'cannot-late-load':
      predicted &&= update.blob !== null;
      hypothetical = 'on a kernel that can late-load';
      break;
    default:
      predicted = false;
  }
  if (!predicted) return { verdict: verdictSummary(verdict), ...base, prediction: null };
  const derived: DerivedMachine = {
    machine: job.machine,
    approximations: [],
    hzSource: `HZ ${base.kernel.hz} (inventory)`,
  };
  const prediction = predict({
    derived,
    staging: stagingFacts(base.staging),
    firmware: file.bytes!,
    forceMinrev,
    hypothetical,
    exactTopology: true,
    ...(job.cost !== null ? { costOverrides: job.cost } : {}),
  });
  verdict = confirmWithModel(verdict, prediction, offlinePrimaryThreads(job.machine));
  return { verdict: verdictSummary(verdict), ...base, prediction: predictionSummary(prediction) };
}
