import type { MachineSpecInput } from '../platform/machine-spec.js';
import type { HostFiles } from '../probe/host-files.js';
import { SimulationInputError } from '../sim/errors.js';
import { type MachineInput, resolveMachine } from '../sim/machine-input.js';
import { buildFleetReport, type FleetSettings, type ShapeAccum, waveOf } from './analysis.js';
import { csvLine, FLEET_CSV_HEADER, hostCsvCells } from './csv.js';
import { type InventoryRow, rowHostName } from './inventory.js';
import {
  type FleetJob,
  type InventoryImage,
  type InventoryJob,
  jobKey,
  runFleetJob,
  treeEntry,
} from './jobs.js';
import {
  FLEET_SOURCES,
  type FleetProblem,
  type FleetReport,
  type FleetSource,
  type Where,
} from './report-types.js';
import { type HostSummary, readProbeDocument, summaryKey } from './summary.js';

export interface FleetOptions extends FleetSettings {
  /** Keep every host's name and shape for the per-host CSV (memory grows with hosts; else with shapes). */
  keepHosts?: boolean;
  /** Host names kept per shape for the report (default 5). */
  examplesPerShape?: number;
  /** Problems kept for the report (default 1,000; all are counted). */
  maxProblems?: number;
  /** Called for every problem as it is found (a strict caller throws). */
  onProblem?: (problem: FleetProblem) => void;
  /** Called for every new model job as it is found (to start it while the inputs are read). */
  onJob?: (key: string, job: FleetJob) => void;
}

/** An inventory row's machine and image, read by the caller. */
export interface ResolvedRow {
  /** The preset's name or the machine file's name: what the report shows as the model. */
  label: string;
  /** Identifies the machine among the rows (a preset name, a file's path). */
  machineId: string;
  machine: MachineInput;
  image: InventoryImage;
}

interface Entry {
  summary: HostSummary | null;
  job: string | null;
  hosts: number;
  examples: string[];
  firstSeen: Where;
  source: FleetSource;
  dropped: boolean;
}

interface HostRef {
  /** One host, or `count` hosts named by rowHostName(). */
  name: string | null;
  row: Pick<InventoryRow, 'host' | 'count' | 'line'> | null;
  file: string;
  line: number | null;
  entry: number;
}

/**
 * Why a model job failed, in one line: the model's refusal of its input as it is, anything
 * else as the bug it is (the hosts are skipped either way: one odd host never stops a plan).
 */
export function jobFailure(name: string, message: string): string {
  const line = message.split('\n')[0]!;
  if (name === 'SimulationInputError' || name === 'SimulationLimitError') return line;
  return `${name}: ${line} (a bug in ucode-staging: please report it with this host's file)`;
}

/**
 * A fleet, host by host: probe reports, saved probe trees and inventory rows go in; hosts of one
 * shape are kept once (a count, a few names), and each distinct model job runs once. Memory
 * grows with shapes, not hosts, unless `keepHosts` asks for the per-host CSV.
 */
export class FleetPlanner {
  private readonly entries: Entry[] = [];
  private readonly entryByKey = new Map<string, number>();
  private readonly jobs = new Map<string, FleetJob>();
  private readonly results = new Map<string, HostSummary>();
  private readonly hostRefs: HostRef[] | null;
  private readonly problemList: FleetProblem[] = [];
  private problemCount = 0;
  private readonly sources = Object.fromEntries(FLEET_SOURCES.map((s) => [s, 0])) as Record<
    FleetSource,
    number
  >;
  private readonly examplesPerShape: number;
  private readonly maxProblems: number;
  /** Inventory rows seen before: the same machine, image, kernel and settings are one entry. */
  private readonly rowEntries = new Map<string, number | string>();

  constructor(private readonly options: FleetOptions = {}) {
    this.hostRefs = options.keepHosts ? [] : null;
    this.examplesPerShape = options.examplesPerShape ?? 5;
    this.maxProblems = options.maxProblems ?? 1000;
  }

  /** Record a skipped input. */
  problem(where: Where, message: string): void {
    const p: FleetProblem = { file: where.file, line: where.line, message };
    this.problemCount++;
    if (this.problemList.length < this.maxProblems) this.problemList.push(p);
    this.options.onProblem?.(p);
  }

  /** The entry of `key` (made on first use). */
  private entryFor(
    key: string,
    make: () => Pick<Entry, 'summary' | 'job'>,
    where: Where,
    source: FleetSource,
  ): number {
    const full = `${source}:${key}`;
    let index = this.entryByKey.get(full);
    if (index === undefined) {
      index = this.entries.length;
      this.entries.push({ ...make(), hosts: 0, examples: [], firstSeen: where, source, dropped: false });
      this.entryByKey.set(full, index);
    }
    return index;
  }

  /** `count` hosts of entry `index`, named by `name(k)`. */
  private count(
    index: number,
    count: number,
    name: (k: number) => string,
    ref: Omit<HostRef, 'entry'>,
  ): void {
    const e = this.entries[index]!;
    for (let k = 0; k < count && e.examples.length < this.examplesPerShape; k++) e.examples.push(name(k));
    e.hosts += count;
    this.sources[e.source] += count;
    this.hostRefs?.push({ ...ref, entry: index });
  }

  /** One `probe --json` output (or an Ansible result holding one). Returns false when it was skipped. */
  addProbeReport(text: string, where: Where, name: string): boolean {
    const read = readProbeDocument(text);
    if (!('summary' in read)) {
      this.problem({ file: where.file, line: read.line ?? where.line }, read.message);
      return false;
    }
    this.addProbeSummary(read.summary, where, name);
    return true;
  }

  /**
   * One probe report already read (readProbeDocument, e.g. in a worker thread); `key` is its
   * summaryKey() when the reader computed it.
   */
  addProbeSummary(summary: HostSummary, where: Where, name: string, key = summaryKey(summary)): void {
    const index = this.entryFor(`s:${key}`, () => ({ summary, job: null }), where, 'probe-json');
    this.count(index, 1, () => name, { name, row: null, file: where.file, line: where.line });
  }

  /** One saved probe tree, as its files were collected (collectHostFiles over the tree). */
  addHostFiles(
    files: HostFiles,
    where: Where,
    name: string,
    opts: { firmwareFolderOnly?: boolean } = {},
  ): void {
    const entry = treeEntry(files, {
      firmwareFolderOnly: opts.firmwareFolderOnly ?? false,
      cost: this.options.cost ?? null,
    });
    const ref = { name, row: null, file: where.file, line: where.line };
    let index: number;
    if ('summary' in entry) {
      index = this.entryFor(
        `s:${summaryKey(entry.summary)}`,
        () => ({ summary: entry.summary, job: null }),
        where,
        'probe-tree',
      );
    } else {
      const key = jobKey(entry.job);
      this.newJob(key, entry.job);
      index = this.entryFor(`j:${key}`, () => ({ summary: null, job: key }), where, 'probe-tree');
    }
    this.count(index, 1, () => name, ref);
  }

  /** One checked inventory row with its machine and image; a machine the model refuses is a problem. */
  addInventoryRow(row: InventoryRow, file: string, resolved: ResolvedRow): boolean {
    const where = { file, line: row.line };
    const imageId =
      resolved.image.kind === 'synthetic' ? 'synthetic' : `${resolved.image.kind}:${resolved.image.path}`;
    // Fields joined by a character no field holds (host names and paths never hold NUL).
    const rowKey = `${resolved.machineId}\u0000${imageId}\u0000${row.kernel.release}\u0000${row.hz}\u0000${row.revision}\u0000${row.forceMinrev}\u0000${row.lateLoading}`;
    let known = this.rowEntries.get(rowKey);
    if (typeof known === 'string') {
      this.problem(where, known);
      return false;
    }
    if (known === undefined) {
      let job: InventoryJob;
      try {
        job = this.inventoryJob(row, resolved);
      } catch (err) {
        if (!(err instanceof SimulationInputError)) throw err;
        const message = `machine ${JSON.stringify(resolved.label)}: ${err.message}`;
        this.rowEntries.set(rowKey, message);
        this.problem(where, message);
        return false;
      }
      const key = jobKey(job);
      this.newJob(key, job);
      known = this.entryFor(`j:${key}`, () => ({ summary: null, job: key }), where, 'inventory');
      this.rowEntries.set(rowKey, known);
    }
    const ref = {
      name: null,
      row: { host: row.host, count: row.count, line: row.line },
      file,
      line: row.line,
    };
    this.count(known, row.count, (k) => rowHostName(row, k, file), ref);
    return true;
  }

  private inventoryJob(row: InventoryRow, resolved: ResolvedRow): InventoryJob {
    const cost = this.options.cost ?? null;
    const spec = resolveMachine(resolved.machine, {
      cost: { ...(cost ?? {}), hz: row.hz, kernelGeneration: row.kernel.generation },
    });
    const machine: MachineSpecInput =
      row.revision === null ? spec : { ...spec, initialRevision: row.revision };
    return {
      kind: 'inventory',
      label: resolved.label,
      machine,
      kernel: row.kernel,
      image: resolved.image,
      forceMinrev: row.forceMinrev,
      lateLoading: row.lateLoading,
      cost,
    };
  }

  private newJob(key: string, job: FleetJob): void {
    if (this.results.has(key) || this.jobs.has(key)) return;
    this.jobs.set(key, job);
    this.options.onJob?.(key, job);
  }

  /** The model jobs still to run: each distinct tree or inventory shape once. */
  pendingJobs(): { key: string; job: FleetJob }[] {
    return [...this.jobs].map(([key, job]) => ({ key, job }));
  }

  /** A job's result (from runFleetJob, here or in a worker). */
  resolve(key: string, summary: HostSummary): void {
    this.results.set(key, summary);
    this.jobs.delete(key);
  }

  /** A job that could not run: its hosts are skipped, each entry reported where it was first seen. */
  fail(key: string, message: string): void {
    this.jobs.delete(key);
    for (const e of this.entries) {
      if (e.job !== key || e.dropped) continue;
      e.dropped = true;
      this.sources[e.source] -= e.hosts;
      this.problem(
        e.firstSeen,
        `${e.hosts} host${e.hosts === 1 ? '' : 's'} skipped: the model run failed: ${message}`,
      );
    }
  }

  /** Run the pending jobs in this thread. */
  runPending(onJob?: () => void): void {
    for (const { key, job } of this.pendingJobs()) {
      try {
        this.resolve(key, runFleetJob(job));
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        this.fail(key, jobFailure(e.name, e.message));
      }
      onJob?.();
    }
  }

  get simulated(): number {
    return this.results.size;
  }

  private shapeIndex(): { accums: ShapeAccum[]; shapeOfEntry: Int32Array } {
    const accums: ShapeAccum[] = [];
    const byKey = new Map<string, number>();
    const shapeOfEntry = new Int32Array(this.entries.length).fill(-1);
    for (const [i, e] of this.entries.entries()) {
      if (e.dropped || e.hosts === 0) continue;
      const summary = e.summary ?? (e.job !== null ? this.results.get(e.job) : undefined);
      if (summary === undefined) throw new Error('fleet report asked for before every job was resolved');
      const key = summaryKey(summary);
      let s = byKey.get(key);
      if (s === undefined) {
        s = accums.length;
        byKey.set(key, s);
        accums.push({ summary, hosts: 0, examples: [], firstSeen: e.firstSeen, sources: new Set() });
      }
      const a = accums[s]!;
      a.hosts += e.hosts;
      for (const x of e.examples) if (a.examples.length < this.examplesPerShape) a.examples.push(x);
      a.sources.add(e.source);
      shapeOfEntry[i] = s;
    }
    return { accums, shapeOfEntry };
  }

  /** The report (every job must be resolved). */
  report(): FleetReport {
    return this.build().report;
  }

  private build() {
    const { accums, shapeOfEntry } = this.shapeIndex();
    const built = buildFleetReport(accums, this.options, {
      simulated: this.simulated,
      sources: this.sources,
      problems: this.problemList,
      problemCount: this.problemCount,
    });
    return { ...built, shapeOfEntry };
  }

  /**
   * The per-host CSV (header first), in input order, each host with its shape's figures and its
   * wave. Needs `keepHosts`.
   */
  *csv(): Generator<string> {
    if (this.hostRefs === null) throw new Error('the per-host CSV needs the planner made with keepHosts');
    const { report, placed, shapeOfEntry } = this.build();
    const seen = new Map<number, number>();
    yield csvLine(FLEET_CSV_HEADER);
    for (const ref of this.hostRefs) {
      const s = shapeOfEntry[ref.entry]!;
      if (s < 0) continue;
      const shape = report.shapes[s]!;
      const at = placed.get(shape.id);
      const count = ref.row?.count ?? 1;
      for (let k = 0; k < count; k++) {
        const nth = seen.get(shape.id) ?? 0;
        seen.set(shape.id, nth + 1);
        const name = ref.row ? rowHostName(ref.row, k, ref.file) : ref.name!;
        const wave = at ? waveOf(at, nth, report.rollout.waveSize) : null;
        yield csvLine(hostCsvCells(name, ref, shape, wave));
      }
    }
  }
}
