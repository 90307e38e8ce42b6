import { hex } from '../format/hex.js';
import type { TraceSpan } from '../kernel/trace.js';
import type { SimulationResult } from '../sim/result-types.js';
import { COST_MODEL_SOURCES, type CostModel } from '../time/cost-model.js';
import { bytes, escapeHtml, grouped, ms3, scriptSafeJson } from './format.js';
import { reportClient } from './report-client.js';
import type { HighlightKind, ReportData, ReportStyle, TimelineData, TimelineMark } from './report-types.js';
import { findingNotes } from './summary.js';

export interface ReportInput {
  results: SimulationResult[];
  title?: string;
  /** One label per result (default: machine name, plus staging on/off when comparing). */
  labels?: string[];
}

/** Packages with more CPUs than this start collapsed to their aggregate row. */
export const COLLAPSE_ABOVE_CPUS_PER_PACKAGE = 64;
const DATA_ELEMENT_ID = 'report-data';

/** Span styles: the timeline's colours and legend, in drawing order within a layer. */
export const REPORT_STYLES: readonly ReportStyle[] = [
  { key: 'reload', label: 'reload write', color: '#dcdcdc', layer: 0 },
  { key: 'staging', label: 'staging pass', color: '#cdd5f7', layer: 0 },
  { key: 'stop_machine', label: 'stopped (stop_machine)', color: '#fde3c4', layer: 0 },
  { key: 'staging_pass', label: 'staging pass', color: '#5c6bc0', layer: 1 },
  { key: 'transaction', label: 'staging transaction', color: '#3d5afe', layer: 1 },
  { key: 'transaction_resend', label: 'transaction re-sent', color: '#00acc1', layer: 1 },
  { key: 'transaction_error', label: 'transaction failed', color: '#d50000', layer: 1 },
  { key: 'stop_window', label: 'stop window', color: '#ef6c00', layer: 1 },
  { key: 'offline_kick', label: 'kick offline siblings', color: '#6d4c41', layer: 1 },
  { key: 'rendezvous', label: 'rendezvous wait', color: '#ffb300', layer: 1 },
  { key: 'wait_primary', label: 'wait for primary', color: '#8e24aa', layer: 1 },
  { key: 'apply', label: 'apply (MSR 0x79)', color: '#2e7d32', layer: 1 },
  { key: 'apply_failed', label: 'apply failed', color: '#c62828', layer: 1 },
];
const STYLE_INDEX = new Map(REPORT_STYLES.map((s, i) => [s.key, i]));
const LEGEND_KEYS = [
  'staging',
  'transaction',
  'transaction_resend',
  'transaction_error',
  'stop_machine',
  'rendezvous',
  'wait_primary',
  'apply',
  'apply_failed',
  'offline_kick',
  'stop_window',
];

const BAR_COLORS = ['#5c6bc0', '#ef6c00', '#2e7d32', '#8e24aa', '#00838f', '#6d4c41'];

/**
 * One self-contained HTML page (inline CSS and script, no network) for one
 * or more results: summary numbers, comparison charts, a canvas timeline per
 * result, the kernel log, the staging passes and the cost model.
 */
export function renderReport(input: ReportInput): string {
  const { results } = input;
  if (results.length === 0) throw new RangeError('renderReport needs at least one result');
  const labels = reportLabels(results, input.labels);
  const title =
    input.title ??
    (results.length === 1
      ? `Microcode late load: ${results[0]!.machine.name}`
      : `Microcode late load: ${labels.join(' vs ')}`);
  const highlights = results.map((r) => reportHighlights(r));
  const data: ReportData = {
    v: 1,
    styles: [...REPORT_STYLES],
    timelines: results.map((r, i) => timelineData(r, labels[i]!, highlights[i]!)),
  };
  const client = reportClient.toString();
  if (/<\/script|<!--/i.test(client)) throw new Error('report script would end its own <script> element');

  const body = [
    `<header><h1>${escapeHtml(title)}</h1><p class="note">Virtual time from the ucode-staging model; every duration comes from the cost model listed at the end.</p></header>`,
    `<section class="cards">${results.map((r, i) => card(r, labels[i]!, i, highlights[i]!)).join('')}</section>`,
    results.length > 1 ? compareCharts(results, labels) : '',
    ...results.map((r, i) => resultSection(r, labels[i]!, i, data.timelines[i]!, highlights[i]!)),
    costModelTable(results, labels),
  ].join('\n');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<script type="application/json" id="${DATA_ELEMENT_ID}">${scriptSafeJson(data)}</script>
<script>(${client})(${JSON.stringify(DATA_ELEMENT_ID)});</script>
</body>
</html>
`;
}

export function reportLabels(results: readonly SimulationResult[], given?: readonly string[]): string[] {
  const labels = results.map((r, i) => {
    const g = given?.[i];
    if (g !== undefined && g !== '') return g;
    if (results.length === 1) return r.machine.name;
    return `${r.machine.name}, staging ${r.staging.attempted ? (r.staging.ok ? 'on' : 'failed') : 'off'}`;
  });
  const seen = new Map<string, number>();
  for (const l of labels) seen.set(l, (seen.get(l) ?? 0) + 1);
  return labels.map((l, i) => ((seen.get(l) ?? 0) > 1 ? `${l} #${i + 1}` : l));
}

/** The last time the run reached (ns since boot): the reload write's end or the last span's. */
function lastReachedNs(result: SimulationResult): number {
  let lastNs = isTime(result.reload.endNs) ? result.reload.endNs : result.reload.startNs;
  for (const s of result.trace.spans) if (isTime(s.endNs) && s.endNs > lastNs) lastNs = s.endNs;
  return lastNs;
}

/** A time that happened: in memory a CPU that never got there has NaN, in JSON null. */
function isTime(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function timelineData(
  result: SimulationResult,
  label: string,
  highlights: readonly ReportHighlight[],
): TimelineData {
  const origin = result.reload.startNs;
  const lastNs = lastReachedNs(result);

  const strings: string[] = [];
  const interned = new Map<string, number>();
  const intern = (s: string): number => {
    let i = interned.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      interned.set(s, i);
    }
    return i;
  };

  interface Row {
    k: number;
    c: number;
    s: number;
    d: number;
    n: number;
    a: number;
  }
  const rows: Row[] = [];
  const add = (
    style: string,
    cpu: number,
    startNs: number,
    endNs: number,
    name: string,
    args?: TraceSpan['args'],
  ): void => {
    const k = STYLE_INDEX.get(style)!;
    rows.push({
      k,
      c: cpu,
      s: startNs - origin,
      d: Math.max(0, endNs - startNs),
      n: intern(name),
      a: args && Object.keys(args).length > 0 ? intern(JSON.stringify(args)) : -1,
    });
  };

  for (const span of result.trace.spans) {
    if (!Number.isFinite(span.startNs)) continue;
    const unfinished = !Number.isFinite(span.endNs);
    const end = unfinished ? Math.max(lastNs, span.startNs) : span.endNs;
    const args = unfinished ? { ...span.args, unfinished: true } : span.args;
    add(spanStyle(span), span.cat === 'reload' ? -1 : span.cpu, span.startNs, end, span.name, args);
    // The host row repeats each staging pass so a collapsed view still shows them.
    if (span.cat === 'staging') add('staging_pass', -1, span.startNs, end, span.name, args);
  }
  if (result.stopWindow) {
    const w = result.stopWindow;
    add('stop_window', -1, w.startNs, w.endNs, 'stop window', { durationNs: w.durationNs });
  }
  const layer = (k: number): number => REPORT_STYLES[k]!.layer;
  rows.sort((x, y) => x.c - y.c || layer(x.k) - layer(y.k) || x.s - y.s);

  const perPackage = result.machine.coresPerPackage * result.machine.threadsPerCore;
  const sw = result.stopWindow;
  return {
    label,
    originNs: origin,
    endNs: Math.max(1, lastNs - origin),
    stop:
      sw && isTime(sw.startNs) && isTime(sw.endNs)
        ? { s: round1(sw.startNs - origin), e: round1(sw.endNs - origin) }
        : null,
    marks: highlights.flatMap((h) => h.marks),
    packages: result.machine.packages,
    cpuPkg: result.cpus.map((c) => c.package),
    cpuOnline: result.cpus.map((c) => (c.online ? 1 : 0)),
    cpuPrimary: result.cpus.map((c) => (c.primary ? 1 : 0)),
    collapsed: Array.from(
      { length: result.machine.packages },
      () => perPackage > COLLAPSE_ABOVE_CPUS_PER_PACKAGE,
    ),
    strings,
    k: rows.map((r) => r.k),
    c: rows.map((r) => r.c),
    s: rows.map((r) => round1(r.s)),
    d: rows.map((r) => round1(r.d)),
    n: rows.map((r) => r.n),
    a: rows.map((r) => r.a),
  };
}

function spanStyle(span: TraceSpan): string {
  const a = span.args ?? {};
  switch (span.cat) {
    case 'transaction':
      if (typeof a.errno === 'number' && a.errno !== 0) return 'transaction_error';
      return a.resend === true ? 'transaction_resend' : 'transaction';
    case 'apply':
      return a.result === undefined || a.result === 'updated' || a.result === 'ok' ? 'apply' : 'apply_failed';
    default:
      return span.cat;
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Re-sending passes marked one by one on the timeline; the rest share one band. */
const MAX_RESEND_MARKS = 16;

/**
 * One thing a reader came for: a staging failure, re-sends, a failed load, a
 * panic, a hang or a loop that never ends. The header card says it in words;
 * the timeline draws its marks as bands in a warning colour.
 */
export interface ReportHighlight {
  kind: HighlightKind;
  severity: 'bad' | 'warn';
  /** The header card's line. */
  text: string;
  /** Where it happened on the timeline (times relative to the reload write); none when it has no place in time. */
  marks: TimelineMark[];
}

/** The run's highlights, the most serious first; empty for a clean run. */
export function reportHighlights(r: SimulationResult): ReportHighlight[] {
  const origin = r.reload.startNs;
  const last = lastReachedNs(r);
  const st = r.staging;
  const out: ReportHighlight[] = [];
  const mark = (
    kind: HighlightKind,
    severity: 'bad' | 'warn',
    label: string,
    startNs: number,
    endNs: number,
    open = false,
  ): TimelineMark => ({
    kind,
    severity,
    label,
    s: round1(startNs - origin),
    e: round1(Math.max(startNs, endNs) - origin),
    open,
  });
  const passEnd = (p: { startNs: number; endNs: number }): number =>
    isTime(p.endNs) && p.endNs >= p.startNs ? p.endNs : last;
  const neverReturns = 'the write to reload never returns';

  if (r.outcome === 'panic') {
    const line = r.log.find((l) => l.level === 'emerg' && l.text.startsWith('Kernel panic'));
    const at = line && isTime(line.timeNs) ? line.timeNs : isTime(r.reload.endNs) ? r.reload.endNs : last;
    const msg = r.panicMessage ?? 'a CPU gave up waiting';
    out.push({
      kind: 'panic',
      severity: 'bad',
      text: `panic: ${msg} (the machine stops; ${neverReturns})`,
      marks: [mark('panic', 'bad', `panic: ${msg}`, at, at, true)],
    });
  }

  if (r.outcome === 'hang') {
    const stopped = minTime(r.cpus.map((c) => c.stoppedNs));
    const at = stopped ?? (isTime(r.reload.endNs) ? r.reload.endNs : last);
    const why = r.hangReason ?? 'stop_machine never completes';
    out.push({
      kind: 'hang',
      severity: 'bad',
      text: `hang: ${why} (${neverReturns})`,
      marks: [mark('hang', 'bad', `hang: ${why}`, at, at, true)],
    });
  }

  // The pass do_stage() never leaves, when that is where the kernel loops.
  let endless: SimulationResult['staging']['packages'][number] | undefined;
  if (r.outcome === 'kernel-does-not-terminate') {
    if (st.reason === 'does-not-terminate') {
      const of = st.packages.filter((p) => st.failedPackage === null || p.pkg === st.failedPackage);
      endless = of[of.length - 1];
    }
    const where = r.stuck?.where ?? 'the kernel';
    const at = endless ? endless.startNs : isTime(r.reload.endNs) ? r.reload.endNs : last;
    out.push({
      kind: 'does-not-terminate',
      severity: 'bad',
      text: `never ends: ${where} loops for ever${endless ? ` staging package ${endless.pkg}` : ''} (the CPUs keep running; ${neverReturns})`,
      marks: [mark('does-not-terminate', 'bad', `never ends: ${where} loops for ever`, at, at, true)],
    });
  }

  if (st.attempted && !st.ok && st.reason !== 'does-not-terminate') {
    const failed = st.packages.filter((p) => p.errno !== 0);
    const errno = st.errno !== 0 ? ` (${st.errno}, ${st.errnoName.replace(/^-/, '')})` : '';
    const where =
      st.failedPackage !== null
        ? ` on package ${st.failedPackage}${st.failedCpu !== null ? ` (CPU ${st.failedCpu})` : ''}`
        : '';
    const resends = failed.reduce((n, p) => n + p.resends, 0);
    const after = resends > 0 ? ` after ${grouped(resends)} re-send${resends === 1 ? '' : 's'}` : '';
    const why =
      st.reason === 'misaligned'
        ? ': the image is not aligned for staging'
        : st.reason === 'cross-call-failed'
          ? ': the mailbox address could not be read on that CPU'
          : st.reason === 'mailbox-msr-fault'
            ? ': MSR 0x7a5 raised #GP, so it staged at address 0'
            : '';
    const then =
      r.outcome === 'aborted'
        ? 'the load was aborted (the policy requires staging)'
        : r.stopWindow || NEVER_RETURNS.has(r.outcome)
          ? 'the load went on unstaged'
          : `the load ended ${r.outcome} (${r.returnCodeName})`;
    const marks = failed.map((p) =>
      mark('staging-failed', 'bad', `staging failed (${p.errno}) on package ${p.pkg}`, p.startNs, passEnd(p)),
    );
    if (marks.length === 0 && isTime(st.startNs) && isTime(st.endNs))
      marks.push(mark('staging-failed', 'bad', 'staging failed', st.startNs, st.endNs));
    out.push({
      kind: 'staging-failed',
      severity: 'bad',
      text: `staging failed${errno}${where}${after}${why}; ${then}`,
      marks,
    });
  }

  if (r.outcome === 'failed' || r.outcome === 'partial') {
    const c = r.counts;
    const what = [
      c.failed > 0 ? `${c.failed} CPU${c.failed === 1 ? '' : 's'} failed` : '',
      c.timedOut > 0 ? `${c.timedOut} CPU${c.timedOut === 1 ? '' : 's'} timed out` : '',
    ].filter((t) => t !== '');
    out.push({
      kind: 'load-failed',
      severity: 'bad',
      text: `the load ${r.outcome === 'partial' ? 'updated only some CPUs' : 'failed'}: reload returned ${r.returnCodeName}${what.length > 0 ? `; ${what.join(', ')}` : ''}`,
      marks: [],
    });
  }

  const resending = st.packages.filter((p) => p.resends > 0 && p.errno === 0 && p !== endless);
  if (resending.length > 0) {
    const total = resending.reduce((n, p) => n + p.resends, 0);
    const perPkg = new Map<number, number>();
    for (const p of resending) perPkg.set(p.pkg, (perPkg.get(p.pkg) ?? 0) + p.resends);
    const list = [...perPkg].slice(0, 4).map(([pkg, n]) => `package ${pkg}: ${grouped(n)}`);
    if (perPkg.size > 4) list.push(`${perPkg.size - 4} more packages`);
    const marks = resending
      .slice(0, MAX_RESEND_MARKS)
      .map((p) =>
        mark(
          'resends',
          'warn',
          `${grouped(p.resends)} re-send${p.resends === 1 ? '' : 's'} (package ${p.pkg})`,
          p.startNs,
          passEnd(p),
        ),
      );
    const rest = resending.slice(MAX_RESEND_MARKS);
    if (rest.length > 0) {
      const n = rest.reduce((a, p) => a + p.resends, 0);
      marks.push(
        mark(
          'resends',
          'warn',
          `${grouped(n)} re-sends in ${rest.length} more passes`,
          minTime(rest.map((p) => p.startNs)) ?? rest[0]!.startNs,
          maxTime(rest.map(passEnd)) ?? passEnd(rest[0]!),
        ),
      );
    }
    out.push({
      kind: 'resends',
      severity: 'warn',
      text: `${grouped(total)} re-send${total === 1 ? '' : 's'}: the mailbox asked for chunks again (${list.join(', ')})`,
      marks,
    });
  }
  return out;
}

const NEVER_RETURNS: ReadonlySet<string> = new Set(['panic', 'hang', 'kernel-does-not-terminate']);

/** The earliest / latest time in a list (no spread: lists can be long), or null when none happened. */
function minTime(values: readonly (number | null)[]): number | null {
  let m: number | null = null;
  for (const v of values) if (isTime(v) && (m === null || v < m)) m = v;
  return m;
}

function maxTime(values: readonly (number | null)[]): number | null {
  let m: number | null = null;
  for (const v of values) if (isTime(v) && (m === null || v > m)) m = v;
  return m;
}

function card(r: SimulationResult, label: string, i: number, highlights: readonly ReportHighlight[]): string {
  const st = r.staging;
  const sw = r.stopWindow;
  const stagingText = !st.attempted
    ? 'not attempted'
    : st.reason === 'does-not-terminate'
      ? `never ends (the model stopped after ${ms3(st.durationNs)} ms)`
      : `${ms3(st.durationNs)} ms, ${st.ok ? 'ok' : `failed ${st.errnoName}`}`;
  const items: [string, string, string][] = [
    [
      'stop window',
      sw ? `${ms3(sw.durationNs)} ms` : 'none',
      attr('stop-window-ns', { ns: sw ? sw.durationNs : '' }),
    ],
    [
      'staging time',
      stagingText,
      attr('staging-ns', { ns: st.durationNs, ok: st.ok, attempted: st.attempted }),
    ],
    [
      'bytes staged',
      `${grouped(st.bytesSent)} (${bytes(st.bytesSent)}) in ${grouped(st.chunks)} chunks`,
      attr('staging-bytes', { value: st.bytesSent }),
    ],
    ['re-sends', grouped(st.resends), attr('staging-resends', { value: st.resends })],
    [
      'total (reload write)',
      `${ms3(r.reload.durationNs)} ms`,
      attr('reload-ns', { ns: r.reload.durationNs }),
    ],
    [
      'outcome',
      `${r.outcome}, ${r.writeReturn === null ? 'the write never returns' : `returned ${r.returnCode === 0 ? '0' : `${r.returnCode} (${r.returnCodeName})`}`}${r.tainted ? `, tainted (${r.taints.join(', ')})` : ''}`,
      attr('outcome', { value: r.outcome, rc: r.returnCode }),
    ],
    [
      'revision',
      `${hex(r.revision.old)} \u2192 ${hex(r.revision.new)}`,
      attr('revision', { old: r.revision.old, new: r.revision.new }),
    ],
  ];
  const m = r.machine;
  const img = r.image;
  return `<article class="card" data-testid="result-card" data-index="${i}">
<h2 style="border-color:${BAR_COLORS[i % BAR_COLORS.length]}">${escapeHtml(label)}</h2>
${highlightList(highlights, i)}
<p class="machine" data-testid="machine-name">${escapeHtml(m.name)}: ${m.cpus} CPUs, ${m.packages} package${m.packages === 1 ? '' : 's'} \u00d7 ${m.coresPerPackage} cores \u00d7 ${m.threadsPerCore} threads</p>
<p class="machine">image: ${img ? `${escapeHtml(img.source)}, ${hex(img.revision)}, ${grouped(img.totalSize)} bytes` : 'none'}; policy: staging ${escapeHtml(r.policy.staging)}, budget ${escapeHtml(r.policy.budget)}, poll ${escapeHtml(r.policy.poll)}</p>
<dl>${items.map(([k, v, a]) => `<dt>${escapeHtml(k)}</dt><dd ${a}>${escapeHtml(v)}</dd>`).join('')}</dl>
${r.stuck ? `<p class="detail" data-testid="stuck">${escapeHtml(`${r.stuck.where}: ${r.stuck.reason}; ${r.stuck.bound}`)}</p>` : ''}
${findingNotes(r)
  .map((n) => `<p class="note" data-testid="finding-note">${escapeHtml(n)}</p>`)
  .join('')}
</article>`;
}

/** The card's first lines: what went wrong, in words, each with a button to its place on the timeline. */
function highlightList(highlights: readonly ReportHighlight[], ti: number): string {
  if (highlights.length === 0) return '';
  let markIndex = 0;
  const items = highlights.map((h) => {
    const button =
      h.marks.length > 0
        ? ` <button type="button" class="show" data-show-timeline="${ti}" data-show-mark="${markIndex}">show on timeline</button>`
        : '';
    markIndex += h.marks.length;
    return `<li class="${h.severity}" data-testid="highlight" data-kind="${h.kind}"><span>${escapeHtml(h.text)}</span>${button}</li>`;
  });
  return `<ul class="highlights" data-testid="highlights">${items.join('')}</ul>`;
}

function attr(testid: string, data: Record<string, string | number | boolean>): string {
  const parts = [`data-testid="${testid}"`];
  for (const [k, v] of Object.entries(data)) parts.push(`data-${k}="${escapeHtml(String(v))}"`);
  return parts.join(' ');
}

function compareCharts(results: readonly SimulationResult[], labels: readonly string[]): string {
  const charts = [
    { title: 'Stop window', values: results.map((r) => r.stopWindow?.durationNs ?? null) },
    {
      title: 'Staging time',
      values: results.map((r) => (r.staging.attempted ? r.staging.durationNs : null)),
    },
    { title: 'Total time (reload write)', values: results.map((r) => r.reload.durationNs) },
  ];
  return `<section class="compare" data-testid="compare"><h2>Comparison</h2><div class="charts">${charts
    .map((c) => barChart(c.title, labels, c.values))
    .join('')}</div></section>`;
}

function barChart(title: string, labels: readonly string[], values: readonly (number | null)[]): string {
  const labelW = 170;
  const barW = 260;
  const valueW = 90;
  const rowH = 24;
  const top = 8;
  const width = labelW + barW + valueW;
  const height = top + rowH * labels.length + 6;
  const max = Math.max(1, ...values.map((v) => v ?? 0));
  const rows = labels
    .map((label, i) => {
      const v = values[i];
      const y = top + i * rowH;
      const w = v === null || v === undefined ? 0 : Math.max(1, (v / max) * barW);
      const text = v === null || v === undefined ? 'none' : `${ms3(v)} ms`;
      return `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${escapeHtml(truncate(label, 26))}</text><rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${BAR_COLORS[i % BAR_COLORS.length]}"><title>${escapeHtml(`${label}: ${text}`)}</title></rect><text x="${labelW + w + 5}" y="${y + 15}">${text}</text>`;
    })
    .join('');
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><svg role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${rows}</svg></figure>`;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}\u2026` : s;
}

function resultSection(
  r: SimulationResult,
  label: string,
  i: number,
  td: TimelineData,
  highlights: readonly ReportHighlight[],
): string {
  const legend = LEGEND_KEYS.map((k) => {
    const s = REPORT_STYLES[STYLE_INDEX.get(k)!]!;
    return `<span><i style="background:${s.color}"></i>${escapeHtml(s.label)}</span>`;
  }).join('');
  const severities = new Set(td.marks.map((m) => m.severity));
  const markLegend = [
    severities.has('bad') ? '<span><i class="band bad"></i>highlight: failed or never ends</span>' : '',
    severities.has('warn') ? '<span><i class="band warn"></i>highlight: re-sends</span>' : '',
  ].join('');
  const toggles = Array.from(
    { length: r.machine.packages },
    (_, p) =>
      `<button type="button" data-testid="group-toggle" data-pkg="${p}" aria-expanded="${!td.collapsed[p]}">${p}</button>`,
  ).join('');
  const stopButton = td.stop
    ? '<button type="button" data-action="stop-window" data-testid="show-stop-window" title="zoom to the stop window (key s)">stop window</button>'
    : '<button type="button" data-action="stop-window" data-testid="show-stop-window" disabled title="this run has no stop window">stop window</button>';
  const helpId = `timeline-help-${i}`;
  return `<section class="result" data-result="${i}">
<h2>${escapeHtml(label)}: timeline</h2>
<div class="timeline" data-timeline="${i}">
<div class="toolbar">
${stopButton}<span class="sep"></span><button type="button" data-action="zoom-in" title="zoom in (key +)">+</button><button type="button" data-action="zoom-out" title="zoom out (key \u2212)">\u2212</button><button type="button" data-action="fit" title="the whole run (key 0)">fit</button>
<span class="sep"></span><button type="button" data-action="expand-all">expand all</button><button type="button" data-action="collapse-all">collapse all</button>
<span class="sep"></span>packages: ${toggles}
<span class="sep"></span><span><b data-testid="timeline-row-count">${r.machine.cpus}</b> CPU rows, <span data-testid="timeline-visible-rows">0</span> shown</span>
<span class="sep"></span><span class="range" data-testid="timeline-range"></span>
</div>
<div class="canvas-wrap"><canvas data-testid="timeline-canvas" tabindex="0" role="application" aria-roledescription="timeline" aria-label="${escapeHtml(timelineDescription(r, label, td, highlights))}" aria-describedby="${helpId}"></canvas><div class="tooltip" data-testid="timeline-tooltip" hidden></div><div class="wheel-hint" data-testid="timeline-wheel-hint" hidden>Ctrl + wheel zooms, Shift + wheel pans; or click the timeline first</div></div>
<div class="legend">${legend}${markLegend}</div>
<p class="hint" id="${helpId}">The wheel scrolls the page. Over the timeline, Ctrl + wheel (\u2318 + wheel) zooms at the pointer and Shift + wheel pans. Click the timeline (or Tab to it) and the wheel zooms there, Alt + wheel scrolls rows; keys: + or = zoom in, \u2212 zooms out, \u2190 \u2192 pan, \u2191 \u2193 Page Up/Down scroll rows, 0 or Home fits, s shows the stop window, Esc leaves. Drag: pan. Click a package row or its button to expand or collapse it. Rows marked \u00b7 are SMT siblings.</p>
${timelineTable(r, td)}
</div>
${passesTable(r)}
<h3>Kernel log</h3>
<pre class="dmesg" data-testid="dmesg">${escapeHtml(r.dmesg)}</pre>
${logMarks(r)}
</section>`;
}

/** What the canvas shows, for its aria-label: the rows, the stop window and the highlights. */
function timelineDescription(
  r: SimulationResult,
  label: string,
  td: TimelineData,
  highlights: readonly ReportHighlight[],
): string {
  const passes = r.staging.packages.length;
  const parts = [
    `Timeline of ${label}, time since the reload write from 0 to ${ms3(td.endNs)} ms.`,
    `A host row with the reload write${passes > 0 ? `, ${passes} staging pass${passes === 1 ? '' : 'es'}` : ''} and ${td.stop ? `the stop window (${ms3(td.stop.e - td.stop.s)} ms, from ${ms3(td.stop.s)} to ${ms3(td.stop.e)} ms)` : 'no stop window'};`,
    `then ${r.machine.packages} package row${r.machine.packages === 1 ? '' : 's'} that expand to ${r.machine.cpus} CPU rows.`,
  ];
  if (highlights.length > 0) parts.push(`Highlighted: ${highlights.map((h) => h.text).join('; ')}.`);
  parts.push('The same figures are in the table "Timeline as a table" below it.');
  return parts.join(' ');
}

/** Relative ms ("+1632.025") of an absolute time, or "never". */
function relMs(ns: number | null | undefined, origin: number): string {
  return isTime(ns) ? `+${ms3(ns - origin)}` : 'never';
}

/**
 * The timeline as tables, for readers who cannot use the canvas: the highlights,
 * each package's staging passes with their times, and per group of CPUs (a
 * package's primary threads, its SMT siblings, its offline CPUs) the stop window.
 */
function timelineTable(r: SimulationResult, td: TimelineData): string {
  const origin = r.reload.startNs;
  const max = 256;
  const sw = r.stopWindow;
  const overview = `<p>Times are ms since the reload write. Reload write: 0 to ${isTime(r.reload.endNs) ? `+${ms3(r.reload.endNs - origin)}` : 'never returns'}${NEVER_RETURNS.has(r.outcome) ? ' (where the model stopped: the write never returns)' : ''}. Stop window (all CPUs): ${sw ? `${relMs(sw.startNs, origin)} to ${relMs(sw.endNs, origin)}, ${ms3(sw.durationNs)} ms` : 'none'}.</p>`;

  const marks =
    td.marks.length === 0
      ? ''
      : `<ul data-testid="timeline-table-marks">${td.marks
          .map(
            (m) =>
              `<li class="${m.severity}">${escapeHtml(m.label)}: ${m.open ? `from +${ms3(m.s)}, never ends` : `+${ms3(m.s)} to +${ms3(m.e)}`}</li>`,
          )
          .join('')}</ul>`;

  const passes = r.staging.packages
    .map((p, i) => ({ ...p, n: i + 1 }))
    .sort((a, b) => a.pkg - b.pkg || a.startNs - b.startNs);
  const passRows = passes
    .slice(0, max)
    .map(
      (p) =>
        `<tr><td>${p.pkg}</td><td>${p.n}</td><td>${p.cpu}</td><td>${relMs(p.startNs, origin)}</td><td>${relMs(p.endNs, origin)}</td><td>${isTime(p.endNs) ? ms3(p.endNs - p.startNs) : 'never ends'}</td><td>${grouped(p.bytesSent)}</td><td>${grouped(p.resends)}</td><td>${p.errno}</td></tr>`,
    )
    .join('');
  const morePasses =
    passes.length > max ? `<tr><td colspan="9">\u2026 ${passes.length - max} more passes</td></tr>` : '';
  const passTable =
    passes.length === 0
      ? '<p>No staging pass.</p>'
      : `<table class="alt" data-testid="timeline-table-passes"><caption>Staging passes per package</caption><thead><tr><th>package</th><th>pass</th><th>CPU</th><th>from</th><th>to</th><th>time ms</th><th>bytes</th><th>re-sends</th><th>errno</th></tr></thead><tbody>${passRows}${morePasses}</tbody></table>`;

  interface Group {
    pkg: number;
    name: string;
    cpus: SimulationResult['cpus'];
  }
  const groups: Group[] = [];
  for (let p = 0; p < r.machine.packages; p++) {
    const of = r.cpus.filter((c) => c.package === p);
    groups.push({ pkg: p, name: 'primary threads', cpus: of.filter((c) => c.online && c.primary) });
    groups.push({ pkg: p, name: 'SMT siblings', cpus: of.filter((c) => c.online && !c.primary) });
    groups.push({ pkg: p, name: 'offline', cpus: of.filter((c) => !c.online) });
  }
  const range = (values: readonly (number | null)[], fmt: (v: number) => string): string => {
    const lo = minTime(values);
    const hi = maxTime(values);
    if (lo === null || hi === null) return '-';
    return lo === hi ? fmt(lo) : `${fmt(lo)} to ${fmt(hi)}`;
  };
  const rel = (v: number): string => `+${ms3(v - origin)}`;
  const groupRows = groups
    .filter((g) => g.cpus.length > 0)
    .slice(0, max)
    .map((g) => {
      const results = new Map<string, number>();
      for (const c of g.cpus) results.set(c.result, (results.get(c.result) ?? 0) + 1);
      const never = g.cpus.filter((c) => !isTime(c.stoppedNs)).length;
      const stopped = g.cpus.map((c) => c.stoppedNs);
      const done = g.cpus.map((c) => c.doneNs);
      return `<tr><td>${g.pkg}</td><td>${g.name}</td><td>${g.cpus.length}</td><td>${range(stopped, rel)}${never > 0 && never < g.cpus.length ? ` (${never} never)` : ''}</td><td>${range(done, rel)}</td><td>${range(
        g.cpus.map((c) => (isTime(c.stoppedNs) ? c.stoppedForNs : null)),
        ms3,
      )}</td><td>${range(
        g.cpus.map((c) => c.applyStartNs),
        rel,
      )}</td><td>${escapeHtml([...results].map(([k, n]) => `${k} ${n}`).join(', '))}</td></tr>`;
    })
    .join('');
  const stopTable = `<table class="alt" data-testid="timeline-table-stop"><caption>Stop window per group of CPUs</caption><thead><tr><th>package</th><th>CPUs</th><th>count</th><th>stopped at</th><th>done at</th><th>stopped for ms</th><th>apply started</th><th>result</th></tr></thead><tbody>${groupRows}</tbody></table>`;

  return `<details class="timeline-table" data-testid="timeline-table"><summary>Timeline as a table</summary>${overview}${marks}${passTable}${stopTable}</details>`;
}

/** The log lines the kernel would not print byte for byte: ours, or with build-dependent fields shown as ?. */
function logMarks(r: SimulationResult): string {
  const marked = r.log.filter((l) => l.mark !== undefined);
  if (marked.length === 0) return '';
  const items = marked
    .map(
      (l) =>
        `<li><b>${escapeHtml(l.mark!.kind)}</b>: <code>${escapeHtml(l.text)}</code>: ${escapeHtml(l.mark!.note)}</li>`,
    )
    .join('');
  return `<p class="hint">Not the kernel's byte for byte:</p><ul class="hint" data-testid="log-marks">${items}</ul>`;
}

function passesTable(r: SimulationResult): string {
  const passes = r.staging.packages;
  if (passes.length === 0) return '';
  const max = 64;
  const rows = passes
    .slice(0, max)
    .map(
      (p, i) =>
        `<tr><td>${i + 1}</td><td>${p.pkg}</td><td>${p.cpu}</td><td>${hex(p.mailboxPa)}</td><td>${grouped(p.bytesSent)}</td><td>${grouped(p.chunks)}</td><td>${grouped(p.resends)}</td><td>${grouped(p.polls)}</td><td>${ms3(p.endNs - p.startNs)}</td><td>${p.errno}</td></tr>`,
    )
    .join('');
  const more =
    passes.length > max ? `<tr><td colspan="10">\u2026 ${passes.length - max} more passes</td></tr>` : '';
  return `<h3>Staging passes</h3><table class="num"><thead><tr><th>pass</th><th>package</th><th>CPU</th><th>mailbox</th><th>bytes</th><th>chunks</th><th>re-sends</th><th>polls</th><th>time ms</th><th>errno</th></tr></thead><tbody>${rows}${more}</tbody></table>`;
}

function costModelTable(results: readonly SimulationResult[], labels: readonly string[]): string {
  const keys = Object.keys(COST_MODEL_SOURCES) as (keyof CostModel)[];
  const head = labels.map((l) => `<th>${escapeHtml(l)}</th>`).join('');
  const rows = keys
    .map((k) => {
      const values = results.map((r) => String(r.costModel[k]));
      const differs = new Set(values).size > 1;
      return `<tr${differs ? ' class="differs"' : ''}><td><code>${escapeHtml(k)}</code></td>${values
        .map((v) => `<td>${escapeHtml(v)}</td>`)
        .join('')}<td class="basis">${escapeHtml(COST_MODEL_SOURCES[k])}</td></tr>`;
    })
    .join('');
  return `<section class="cost"><h2>Cost model</h2><table data-testid="cost-model"><thead><tr><th>parameter</th>${head}<th>basis</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

const CSS = `
:root { color-scheme: light; --fg:#1d2330; --muted:#5d6675; --line:#dde1e8; }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 16px 24px 40px; max-width: 1500px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
h1 { font-size: 22px; margin: 4px 0; }
h2 { font-size: 17px; margin: 22px 0 8px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
.note, .hint, .machine { color: var(--muted); margin: 2px 0; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 12px; margin-top: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.card h2 { margin: 0 0 4px; border-left: 5px solid; padding-left: 8px; }
.card dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0 0; }
.card dt { color: var(--muted); }
.card dd { margin: 0; font-variant-numeric: tabular-nums; font-weight: 600; }
.bad { color: #b71c1c; font-weight: 600; }
.detail { color: var(--muted); font-size: 13px; margin: 6px 0 0; }
ul.highlights { list-style: none; margin: 6px 0 8px; padding: 0; display: grid; gap: 4px; }
ul.highlights li { padding: 5px 8px; border-radius: 4px; border-left: 5px solid; font-weight: 600; }
ul.highlights li.bad { background: #fdecea; border-color: #d50000; color: #8e0000; }
ul.highlights li.warn { background: #fff4e0; border-color: #ff8f00; color: #7a4300; }
ul.highlights button.show { font: 12px system-ui, sans-serif; margin-left: 6px; padding: 0 6px; border: 1px solid currentColor; border-radius: 4px; background: #fff; color: inherit; cursor: pointer; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
.chart { margin: 0; }
.chart figcaption { font-weight: 600; margin-bottom: 2px; }
.chart svg { font: 12px system-ui, sans-serif; fill: var(--fg); }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin: 6px 0; font-size: 13px; }
.toolbar button { font: inherit; padding: 1px 8px; border: 1px solid #b8bfcc; border-radius: 4px; background: #f6f7f9; cursor: pointer; }
.toolbar button[aria-expanded="true"] { background: #dfe6ff; border-color: #7986cb; }
.toolbar button[data-action="stop-window"] { border-color: #ef6c00; background: #fff3e6; font-weight: 600; }
.toolbar button:disabled { opacity: .5; cursor: default; }
.toolbar .sep { width: 10px; }
.toolbar .range { color: var(--muted); font-variant-numeric: tabular-nums; }
.canvas-wrap { position: relative; border: 1px solid var(--line); }
.canvas-wrap canvas { display: block; cursor: grab; }
.canvas-wrap canvas:focus { outline: 3px solid #1a73e8; outline-offset: 1px; }
.wheel-hint { position: absolute; z-index: 3; left: 50%; top: 34px; transform: translateX(-50%); pointer-events: none; background: rgba(25,28,36,.88); color: #fff; padding: 6px 12px; border-radius: 4px; font-size: 13px; }
.tooltip { position: absolute; z-index: 2; pointer-events: none; white-space: pre; background: rgba(25,28,36,.94); color: #fff; font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; padding: 6px 8px; border-radius: 4px; max-width: 560px; overflow: hidden; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 5px; vertical-align: -1px; border: 1px solid rgba(0,0,0,.15); }
.legend i.band.bad { background: rgba(213,0,0,.18); border-color: #d50000; }
.legend i.band.warn { background: rgba(255,143,0,.2); border-color: #ff8f00; }
details.timeline-table { margin: 6px 0; font-size: 13px; }
details.timeline-table summary { cursor: pointer; color: var(--muted); }
details.timeline-table li.bad { color: #8e0000; }
details.timeline-table li.warn { color: #7a4300; }
table.alt { margin: 8px 0; }
table.alt caption { text-align: left; font-weight: 600; padding: 4px 0; }
table.alt td { font-variant-numeric: tabular-nums; }
pre.dmesg { background: #f7f8fa; border: 1px solid var(--line); padding: 8px 10px; overflow-x: auto; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; max-height: 360px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; vertical-align: top; }
table.num td { text-align: right; font-variant-numeric: tabular-nums; }
tr.differs td { background: #fff6e0; }
td.basis { color: var(--muted); }
`;
