import { hex } from '../format/hex.js';
import type { SpanCategory, TraceSpan } from '../kernel/trace.js';
import type { SimulationResult } from '../sim/result-types.js';

/**
 * Chrome Trace Event format (the JSON object form), as Perfetto and
 * chrome://tracing open it. Layout:
 * - process 0 "host": the reload write (thread 0) and the stop window (thread 1);
 * - process p + 1 "package p": one thread per CPU (tid = CPU number);
 * - complete events (X) for every span, on the span's CPU (staging and its
 *   transactions on the staging CPU's track);
 * - a "bytes staged" counter (C) per package;
 * - a global instant (i) for every kernel log line.
 * Timestamps are virtual time since boot, in microseconds (fractions kept).
 */
export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'C' | 'i' | 'M';
  pid: number;
  tid: number;
  ts: number;
  cat?: string;
  dur?: number;
  /** Instant scope: global, process or thread. */
  s?: 'g' | 'p' | 't';
  args?: Record<string, string | number | boolean>;
}

export interface ChromeTraceFile {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ns';
  metadata: Record<string, string | number | boolean | null>;
}

export const HOST_PID = 0;
export const HOST_RELOAD_TID = 0;
export const HOST_STOP_WINDOW_TID = 1;

/** Categories drawn as complete events on CPU tracks. */
const CPU_SPAN_CATEGORIES: ReadonlySet<SpanCategory> = new Set<SpanCategory>([
  'staging',
  'transaction',
  'stop_machine',
  'rendezvous',
  'wait_primary',
  'apply',
  'offline_kick',
]);

const NS_PER_US = 1000;

export function packagePid(pkg: number): number {
  return pkg + 1;
}

export function toChromeTrace(result: SimulationResult): ChromeTraceFile {
  const meta: ChromeTraceEvent[] = [];
  const events: ChromeTraceEvent[] = [];
  const packageOf = (cpu: number): number => result.cpus[cpu]?.package ?? 0;

  meta.push(processName(HOST_PID, 'host'), processSort(HOST_PID, 0));
  meta.push(threadName(HOST_PID, HOST_RELOAD_TID, 'reload'), threadSort(HOST_PID, HOST_RELOAD_TID, 0));
  meta.push(
    threadName(HOST_PID, HOST_STOP_WINDOW_TID, 'stop window'),
    threadSort(HOST_PID, HOST_STOP_WINDOW_TID, 1),
  );
  for (let pkg = 0; pkg < result.machine.packages; pkg++) {
    meta.push(processName(packagePid(pkg), `package ${pkg}`), processSort(packagePid(pkg), pkg + 1));
  }
  for (const c of result.cpus) {
    const pid = packagePid(c.package);
    meta.push(threadName(pid, c.cpu, `CPU ${c.cpu}`), threadSort(pid, c.cpu, c.cpu));
  }

  // A span that never ended (a hang) is drawn up to the last time the run reached.
  const lastNs = lastFiniteTime(result);
  for (const span of result.trace.spans) {
    if (!Number.isFinite(span.startNs)) continue;
    const ev = spanEvent(span, lastNs, packageOf);
    if (ev) events.push(ev);
  }
  if (result.stopWindow) {
    events.push({
      name: 'stop window',
      cat: 'stop_machine',
      ph: 'X',
      pid: HOST_PID,
      tid: HOST_STOP_WINDOW_TID,
      ts: result.stopWindow.startNs / NS_PER_US,
      dur: result.stopWindow.durationNs / NS_PER_US,
      args: { durationNs: result.stopWindow.durationNs },
    });
  }

  // The counter restarts at 0 with each staging pass, so Perfetto draws each pass's ramp.
  for (const span of result.trace.spans) {
    if (span.cat !== 'staging' || !Number.isFinite(span.startNs)) continue;
    events.push(counterEvent('bytes staged', packageOf(span.cpu), span.startNs, 0));
  }
  for (const c of result.trace.counters) {
    if (Number.isFinite(c.timeNs)) events.push(counterEvent(c.name, c.pkg, c.timeNs, c.value));
  }

  for (const line of result.log) {
    events.push({
      name: line.text,
      cat: 'log',
      ph: 'i',
      s: 'g',
      pid: HOST_PID,
      tid: HOST_RELOAD_TID,
      ts: Math.max(0, line.timeNs) / NS_PER_US,
      args: { level: line.level },
    });
  }

  // Stable sort: at equal ts, longer events first so nesting reads outer to inner.
  events.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));

  return {
    traceEvents: [...meta, ...events],
    displayTimeUnit: 'ns',
    metadata: {
      schema: 'ucode-staging/chrome-trace@1',
      clock: 'virtual time since boot (ts in microseconds)',
      machine: result.machine.name,
      cpus: result.machine.cpus,
      packages: result.machine.packages,
      seed: result.seed,
      outcome: result.outcome,
      returnCode: result.returnCode,
      oldRevision: hexOrNull(result.revision.old),
      newRevision: hexOrNull(result.revision.new),
      imageRevision: result.image ? hexOrNull(result.image.revision) : null,
      imageBytes: result.image?.totalSize ?? null,
      stagingAttempted: result.staging.attempted,
      stagingOk: result.staging.ok,
      stagingNs: result.staging.durationNs,
      stopWindowNs: result.stopWindow?.durationNs ?? null,
      reloadNs: result.reload.durationNs,
    },
  };
}

export function chromeTraceJson(result: SimulationResult): string {
  return JSON.stringify(toChromeTrace(result));
}

function spanEvent(
  span: TraceSpan,
  lastNs: number,
  packageOf: (cpu: number) => number,
): ChromeTraceEvent | null {
  const unfinished = !Number.isFinite(span.endNs);
  const endNs = unfinished ? Math.max(lastNs, span.startNs) : span.endNs;
  const args: Record<string, string | number | boolean> = { cpu: span.cpu, ...span.args };
  if (unfinished) args.unfinished = true;
  const base = {
    name: span.name,
    cat: span.cat,
    ph: 'X' as const,
    ts: span.startNs / NS_PER_US,
    dur: Math.max(0, endNs - span.startNs) / NS_PER_US,
    args,
  };
  if (span.cat === 'reload') return { ...base, pid: HOST_PID, tid: HOST_RELOAD_TID };
  if (!CPU_SPAN_CATEGORIES.has(span.cat)) return null;
  return { ...base, pid: packagePid(packageOf(span.cpu)), tid: span.cpu };
}

function counterEvent(name: string, pkg: number, timeNs: number, value: number): ChromeTraceEvent {
  return { name, ph: 'C', pid: packagePid(pkg), tid: 0, ts: timeNs / NS_PER_US, args: { bytes: value } };
}

function lastFiniteTime(result: SimulationResult): number {
  let t = Number.isFinite(result.reload.endNs) ? result.reload.endNs : result.reload.startNs;
  for (const s of result.trace.spans) {
    if (Number.isFinite(s.endNs) && s.endNs > t) t = s.endNs;
  }
  return t;
}

function hexOrNull(v: number): string | null {
  return Number.isFinite(v) ? hex(v) : null;
}

function processName(pid: number, name: string): ChromeTraceEvent {
  return { name: 'process_name', ph: 'M', pid, tid: 0, ts: 0, args: { name } };
}

function processSort(pid: number, index: number): ChromeTraceEvent {
  return { name: 'process_sort_index', ph: 'M', pid, tid: 0, ts: 0, args: { sort_index: index } };
}

function threadName(pid: number, tid: number, name: string): ChromeTraceEvent {
  return { name: 'thread_name', ph: 'M', pid, tid, ts: 0, args: { name } };
}

function threadSort(pid: number, tid: number, index: number): ChromeTraceEvent {
  return { name: 'thread_sort_index', ph: 'M', pid, tid, ts: 0, args: { sort_index: index } };
}

const METADATA_NAMES = new Set(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index']);

/**
 * Structural check of a Chrome trace object (what Perfetto's JSON importer
 * needs, plus this exporter's own conventions). Returns the problems found,
 * each naming the event index; an empty array means valid.
 */
export function validateChromeTrace(obj: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(obj)) return ['trace is not an object'];
  const events = obj.traceEvents;
  if (!Array.isArray(events)) return ['traceEvents is not an array'];
  if (obj.displayTimeUnit !== undefined && obj.displayTimeUnit !== 'ns' && obj.displayTimeUnit !== 'ms') {
    problems.push(`displayTimeUnit must be 'ns' or 'ms', got ${String(obj.displayTimeUnit)}`);
  }
  if (obj.metadata !== undefined && !isRecord(obj.metadata)) problems.push('metadata is not an object');

  const namedProcesses = new Set<number>();
  const namedThreads = new Set<string>();
  const usedProcesses = new Set<number>();
  const usedThreads = new Set<string>();
  let lastTs = Number.NEGATIVE_INFINITY;

  events.forEach((ev: unknown, i: number) => {
    const at = `event ${i}`;
    if (!isRecord(ev)) {
      problems.push(`${at}: not an object`);
      return;
    }
    if (typeof ev.name !== 'string') problems.push(`${at}: name must be a string`);
    if (!isNonNegInt(ev.pid)) problems.push(`${at}: pid must be a non-negative integer`);
    if (!isNonNegInt(ev.tid)) problems.push(`${at}: tid must be a non-negative integer`);
    if (ev.args !== undefined && !isRecord(ev.args)) problems.push(`${at}: args must be an object`);
    const ts = ev.ts;
    const tsOk = typeof ts === 'number' && Number.isFinite(ts) && ts >= 0;
    const args = isRecord(ev.args) ? ev.args : undefined;
    const pid = typeof ev.pid === 'number' ? ev.pid : -1;
    const thread = `${pid}/${String(ev.tid)}`;

    switch (ev.ph) {
      case 'M': {
        if (typeof ev.name !== 'string' || !METADATA_NAMES.has(ev.name)) {
          problems.push(`${at}: unknown metadata name ${String(ev.name)}`);
          break;
        }
        if (ev.name.endsWith('_name')) {
          if (typeof args?.name !== 'string' || args.name === '')
            problems.push(`${at}: ${ev.name} needs args.name`);
          else if (ev.name === 'process_name') namedProcesses.add(pid);
          else namedThreads.add(thread);
        } else if (!Number.isInteger(args?.sort_index)) {
          problems.push(`${at}: ${ev.name} needs an integer args.sort_index`);
        }
        return;
      }
      case 'X':
        if (!tsOk) problems.push(`${at}: ts must be a finite number >= 0`);
        if (typeof ev.dur !== 'number' || !Number.isFinite(ev.dur) || ev.dur < 0) {
          problems.push(`${at}: dur must be a finite number >= 0`);
        }
        if (typeof ev.cat !== 'string') problems.push(`${at}: complete event needs a cat`);
        usedProcesses.add(pid);
        usedThreads.add(thread);
        break;
      case 'C':
        if (!tsOk) problems.push(`${at}: ts must be a finite number >= 0`);
        if (!args || Object.keys(args).length === 0) problems.push(`${at}: counter needs args`);
        else if (Object.values(args).some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
          problems.push(`${at}: counter args must be finite numbers`);
        }
        usedProcesses.add(pid);
        break;
      case 'i':
      case 'I':
        if (!tsOk) problems.push(`${at}: ts must be a finite number >= 0`);
        if (ev.s !== undefined && ev.s !== 'g' && ev.s !== 'p' && ev.s !== 't') {
          problems.push(`${at}: instant scope must be g, p or t`);
        }
        break;
      default:
        problems.push(`${at}: unsupported phase ${String(ev.ph)}`);
        return;
    }
    if (tsOk) {
      if (ts < lastTs) problems.push(`${at}: not sorted by ts (${ts} after ${lastTs})`);
      lastTs = ts;
    }
  });

  for (const pid of usedProcesses) {
    if (!namedProcesses.has(pid)) problems.push(`process ${pid} has events but no process_name`);
  }
  for (const t of usedThreads) {
    if (!namedThreads.has(t)) problems.push(`thread ${t} has events but no thread_name`);
  }
  return problems;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}
