import { describe, expect, it } from 'vitest';
import {
  type ChromeTraceEvent,
  chromeTraceJson,
  HOST_PID,
  packagePid,
  toChromeTrace,
  validateChromeTrace,
} from '../../src/output/chrome-trace.js';
import { cloneResult, run, SCENARIO_NAMES } from './fixtures.js';

const SPAN_CATEGORIES = new Set([
  'reload',
  'staging',
  'transaction',
  'stop_machine',
  'rendezvous',
  'apply',
  'wait_primary',
  'offline_kick',
]);

describe('toChromeTrace', () => {
  it.each(SCENARIO_NAMES)('is a valid Chrome trace: %s', (name) => {
    const result = run(name);
    const trace = toChromeTrace(result);
    expect(validateChromeTrace(trace)).toEqual([]);
    expect(trace.displayTimeUnit).toBe('ns');
    expect(trace.metadata.machine).toBe(result.machine.name);
    expect(trace.metadata.outcome).toBe(result.outcome);
    // Every span of the run is one complete event (plus the host's stop window).
    const complete = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(complete.length).toBe(result.trace.spans.length + (result.stopWindow ? 1 : 0));
    for (const e of complete) expect(SPAN_CATEGORIES.has(e.cat!)).toBe(true);
    // One global instant per log line, named by its text.
    const instants = trace.traceEvents.filter((e) => e.ph === 'i');
    expect(instants.map((e) => e.name)).toEqual(result.log.map((l) => l.text));
    expect(instants.every((e) => e.s === 'g')).toBe(true);
  });

  it('names the host, one process per package and one thread per CPU', () => {
    const result = run('gnr-2s');
    const meta = toChromeTrace(result).traceEvents.filter((e) => e.ph === 'M');
    const processNames = new Map(
      meta.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args!.name]),
    );
    expect(processNames.get(HOST_PID)).toBe('host');
    for (let pkg = 0; pkg < result.machine.packages; pkg++) {
      expect(processNames.get(pkg + 1)).toBe(`package ${pkg}`);
    }
    const threads = meta.filter((e) => e.name === 'thread_name' && e.pid !== HOST_PID);
    expect(threads.length).toBe(result.machine.cpus);
    for (const c of result.cpus) {
      const t = threads.find((e) => e.tid === c.cpu)!;
      expect(t.pid).toBe(c.package + 1);
      expect(t.args!.name).toBe(`CPU ${c.cpu}`);
    }
  });

  it('puts spans on their CPU track, the reload on the host, times in microseconds', () => {
    const result = run('gnr-2s');
    const events = toChromeTrace(result).traceEvents;
    const reload = events.find((e) => e.ph === 'X' && e.cat === 'reload')!;
    expect(reload.pid).toBe(HOST_PID);
    expect(reload.ts).toBe(result.reload.startNs / 1000);
    expect(reload.dur).toBeCloseTo(result.reload.durationNs / 1000, 6);

    const staging = events.filter((e) => e.ph === 'X' && e.cat === 'staging');
    expect(staging.length).toBe(result.staging.packages.length);
    staging.forEach((e, i) => {
      const pass = result.staging.packages[i]!;
      expect(e.tid).toBe(pass.cpu);
      expect(e.pid).toBe(packagePid(pass.pkg));
      expect(e.ts * 1000).toBeCloseTo(pass.startNs, 0);
      expect((e.ts + e.dur!) * 1000).toBeCloseTo(pass.endNs, 0);
    });
    // Transactions sit on the staging CPU's track, inside their staging span.
    for (const [i, pass] of result.staging.packages.entries()) {
      const tx = events.filter((e) => e.cat === 'transaction' && e.tid === pass.cpu);
      expect(tx.length).toBe(pass.chunks);
      const outer = staging[i]!;
      for (const t of tx) {
        expect(t.ts).toBeGreaterThanOrEqual(outer.ts);
        expect(t.ts + t.dur!).toBeLessThanOrEqual(outer.ts + outer.dur! + 1e-6);
      }
    }
    const window = events.find((e) => e.name === 'stop window')!;
    expect(window.pid).toBe(HOST_PID);
    expect(window.dur! * 1000).toBeCloseTo(result.stopWindow!.durationNs, 0);

    for (const cat of ['stop_machine', 'rendezvous', 'apply']) {
      const perCpu = events.filter((e) => e.cat === cat && e.pid !== HOST_PID);
      expect(perCpu.length).toBe(result.machine.onlineCpus);
      for (const e of perCpu) expect(e.pid).toBe(packagePid(result.cpus[e.tid]!.package));
    }
  });

  it('has a "bytes staged" counter per package that ends at the bytes sent', () => {
    const result = run('gnr-2s');
    const counters = toChromeTrace(result).traceEvents.filter((e) => e.ph === 'C');
    for (const pass of result.staging.packages) {
      const mine = counters.filter((e) => e.pid === packagePid(pass.pkg));
      expect(mine.every((e) => e.name === 'bytes staged')).toBe(true);
      expect(mine[0]!.args!.bytes).toBe(0);
      expect(mine.at(-1)!.args!.bytes).toBe(pass.bytesSent);
      expect(mine.length).toBe(pass.chunks + 1);
    }
  });

  it('marks failed transactions of a fault run in their args', () => {
    const result = run('never-ready at transaction 3');
    const tx = toChromeTrace(result).traceEvents.filter((e) => e.cat === 'transaction');
    expect(tx.length).toBe(4);
    expect(tx.at(-1)!.args!.errno).toBe(-110);
    // The failed transaction polled for its whole 10 s budget (at least 10,000 x 1 ms).
    expect(tx.at(-1)!.dur!).toBeGreaterThan(10_000_000);
  });

  it('serialises to JSON that parses back to the same object', () => {
    const result = run('up');
    const json = chromeTraceJson(result);
    expect(JSON.parse(json)).toEqual(toChromeTrace(result));
    expect(validateChromeTrace(JSON.parse(json))).toEqual([]);
  });

  it('draws a span that never ended up to the last time reached, flagged unfinished', () => {
    const result = cloneResult(run('up'));
    const apply = result.trace.spans.find((s) => s.cat === 'apply')!;
    apply.endNs = Number.NaN;
    const trace = toChromeTrace(result);
    expect(validateChromeTrace(trace)).toEqual([]);
    const ev = trace.traceEvents.find((e) => e.cat === 'apply')!;
    expect(ev.args!.unfinished).toBe(true);
    expect(Number.isFinite(ev.dur)).toBe(true);
  });

  it('is sorted by ts after the metadata', () => {
    const events = toChromeTrace(run('apply rejected, one CPU offline')).traceEvents;
    const timed = events.filter((e) => e.ph !== 'M');
    for (let i = 1; i < timed.length; i++) expect(timed[i]!.ts).toBeGreaterThanOrEqual(timed[i - 1]!.ts);
    const firstTimed = events.findIndex((e) => e.ph !== 'M');
    expect(events.slice(firstTimed).some((e) => e.ph === 'M')).toBe(false);
  });
});

describe('validateChromeTrace', () => {
  const named: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: 1, tid: 0, ts: 0, args: { name: 'package 0' } },
    { name: 'thread_name', ph: 'M', pid: 1, tid: 3, ts: 0, args: { name: 'CPU 3' } },
  ];
  const x = (over: Partial<ChromeTraceEvent>): ChromeTraceEvent => ({
    name: 'apply',
    cat: 'apply',
    ph: 'X',
    pid: 1,
    tid: 3,
    ts: 10,
    dur: 5,
    ...over,
  });
  const check = (events: unknown[]): string[] =>
    validateChromeTrace({ traceEvents: events, displayTimeUnit: 'ns' });

  it('accepts a minimal valid trace', () => {
    expect(check([...named, x({})])).toEqual([]);
  });

  it('reports each kind of problem', () => {
    expect(validateChromeTrace(null)).toEqual(['trace is not an object']);
    expect(validateChromeTrace({ traceEvents: {} })).toEqual(['traceEvents is not an array']);
    expect(validateChromeTrace({ traceEvents: [], displayTimeUnit: 'us' })[0]).toMatch(/displayTimeUnit/);
    expect(check([...named, x({ dur: -1 })]).join()).toMatch(/dur must be/);
    expect(check([...named, x({ dur: Number.NaN })]).join()).toMatch(/dur must be/);
    expect(check([...named, x({ ts: -5 })]).join()).toMatch(/ts must be/);
    expect(check([...named, x({ pid: 1.5 })]).join()).toMatch(/pid must be/);
    expect(check([...named, x({ tid: -1 })]).join()).toMatch(/tid must be/);
    expect(check([...named, x({ cat: undefined })]).join()).toMatch(/needs a cat/);
    expect(check([...named, x({ tid: 4 })]).join()).toMatch(/thread 1\/4 has events but no thread_name/);
    expect(check([x({})]).join()).toMatch(/process 1 has events but no process_name/);
    expect(check([...named, x({ ts: 20 }), x({ ts: 10 })]).join()).toMatch(/not sorted/);
    expect(check([...named, { ...x({}), ph: 'B' }]).join()).toMatch(/unsupported phase B/);
    expect(check([{ name: 'process_name', ph: 'M', pid: 1, tid: 0, ts: 0, args: {} }]).join()).toMatch(
      /needs args.name/,
    );
    expect(check([{ name: 'bogus', ph: 'M', pid: 1, tid: 0, ts: 0 }]).join()).toMatch(/unknown metadata/);
    expect(check([...named, { name: 'c', ph: 'C', pid: 1, tid: 0, ts: 1, args: { v: 'x' } }]).join()).toMatch(
      /finite numbers/,
    );
    expect(check([{ name: 'log', ph: 'i', s: 'x', pid: 0, tid: 0, ts: 1 }]).join()).toMatch(/scope/);
  });
});
