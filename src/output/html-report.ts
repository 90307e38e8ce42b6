import { hex } from '../format/hex.js';
import type { TraceSpan } from '../kernel/trace.js';
import type { SimulationResult } from '../sim/result-types.js';
import { COST_MODEL_SOURCES, type CostModel } from '../time/cost-model.js';
import { bytes, escapeHtml, grouped, ms3, scriptSafeJson } from './format.js';
import { reportClient } from './report-client.js';
import { findingNotes } from './summary.js';
import type { ReportData, ReportStyle, TimelineData } from './report-types.js';

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
  const data: ReportData = {
    v: 1,
    styles: [...REPORT_STYLES],
    timelines: results.map((r, i) => timelineData(r, labels[i]!)),
  };
  const client = reportClient.toString();
  if (/<\/script|<!--/i.test(client)) throw new Error('report script would end its own <script> element');

  const body = [
    `<header><h1>${escapeHtml(title)}</h1><p class="note">Virtual time from the ucode-staging model; every duration comes from the cost model listed at the end.</p></header>`,
    `<section class="cards">${results.map((r, i) => card(r, labels[i]!, i)).join('')}</section>`,
    results.length > 1 ? compareCharts(results, labels) : '',
    ...results.map((r, i) => resultSection(r, labels[i]!, i, data.timelines[i]!)),
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

function timelineData(result: SimulationResult, label: string): TimelineData {
  const origin = result.reload.startNs;
  let lastNs = Number.isFinite(result.reload.endNs) ? result.reload.endNs : origin;
  for (const s of result.trace.spans) if (Number.isFinite(s.endNs) && s.endNs > lastNs) lastNs = s.endNs;

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
  return {
    label,
    originNs: origin,
    endNs: Math.max(1, lastNs - origin),
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

function card(r: SimulationResult, label: string, i: number): string {
  const st = r.staging;
  const sw = r.stopWindow;
  const stagingText = st.attempted
    ? `${ms3(st.durationNs)} ms, ${st.ok ? 'ok' : `failed ${st.errnoName}`}`
    : 'not attempted';
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
<p class="machine" data-testid="machine-name">${escapeHtml(m.name)}: ${m.cpus} CPUs, ${m.packages} package${m.packages === 1 ? '' : 's'} \u00d7 ${m.coresPerPackage} cores \u00d7 ${m.threadsPerCore} threads</p>
<p class="machine">image: ${img ? `${escapeHtml(img.source)}, ${hex(img.revision)}, ${grouped(img.totalSize)} bytes` : 'none'}; policy: staging ${escapeHtml(r.policy.staging)}, budget ${escapeHtml(r.policy.budget)}, poll ${escapeHtml(r.policy.poll)}</p>
<dl>${items.map(([k, v, a]) => `<dt>${escapeHtml(k)}</dt><dd ${a}>${escapeHtml(v)}</dd>`).join('')}</dl>
${r.panicMessage ? `<p class="bad">${escapeHtml(r.panicMessage)}</p>` : ''}
${r.hangReason ? `<p class="bad">${escapeHtml(r.hangReason)}</p>` : ''}
${r.stuck ? `<p class="bad" data-testid="stuck">${escapeHtml(`${r.stuck.where}: ${r.stuck.reason}; ${r.stuck.bound}`)}</p>` : ''}
${findingNotes(r).map((n) => `<p class="note" data-testid="finding-note">${escapeHtml(n)}</p>`).join('')}
</article>`;
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

function resultSection(r: SimulationResult, label: string, i: number, td: TimelineData): string {
  const legend = LEGEND_KEYS.map((k) => {
    const s = REPORT_STYLES[STYLE_INDEX.get(k)!]!;
    return `<span><i style="background:${s.color}"></i>${escapeHtml(s.label)}</span>`;
  }).join('');
  const toggles = Array.from(
    { length: r.machine.packages },
    (_, p) =>
      `<button type="button" data-testid="group-toggle" data-pkg="${p}" aria-expanded="${!td.collapsed[p]}">${p}</button>`,
  ).join('');
  return `<section class="result" data-result="${i}">
<h2>${escapeHtml(label)}: timeline</h2>
<div class="timeline" data-timeline="${i}">
<div class="toolbar">
<button type="button" data-action="zoom-in" title="zoom in">+</button><button type="button" data-action="zoom-out" title="zoom out">\u2212</button><button type="button" data-action="fit">fit</button>
<span class="sep"></span><button type="button" data-action="expand-all">expand all</button><button type="button" data-action="collapse-all">collapse all</button>
<span class="sep"></span>packages: ${toggles}
<span class="sep"></span><span><b data-testid="timeline-row-count">${r.machine.cpus}</b> CPU rows, <span data-testid="timeline-visible-rows">0</span> shown</span>
<span class="sep"></span><span class="range" data-testid="timeline-range"></span>
</div>
<div class="canvas-wrap"><canvas data-testid="timeline-canvas"></canvas><div class="tooltip" data-testid="timeline-tooltip" hidden></div></div>
<div class="legend">${legend}</div>
<p class="hint">Wheel: zoom at the pointer (shift+wheel scrolls rows). Drag: pan. Click a package row or its button to expand or collapse it. Rows marked \u00b7 are SMT siblings.</p>
</div>
${passesTable(r)}
<h3>Kernel log</h3>
<pre class="dmesg" data-testid="dmesg">${escapeHtml(r.dmesg)}</pre>
${logMarks(r)}
</section>`;
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
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
.chart { margin: 0; }
.chart figcaption { font-weight: 600; margin-bottom: 2px; }
.chart svg { font: 12px system-ui, sans-serif; fill: var(--fg); }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin: 6px 0; font-size: 13px; }
.toolbar button { font: inherit; padding: 1px 8px; border: 1px solid #b8bfcc; border-radius: 4px; background: #f6f7f9; cursor: pointer; }
.toolbar button[aria-expanded="true"] { background: #dfe6ff; border-color: #7986cb; }
.toolbar .sep { width: 10px; }
.toolbar .range { color: var(--muted); font-variant-numeric: tabular-nums; }
.canvas-wrap { position: relative; border: 1px solid var(--line); }
.canvas-wrap canvas { display: block; cursor: grab; }
.tooltip { position: absolute; z-index: 2; pointer-events: none; white-space: pre; background: rgba(25,28,36,.94); color: #fff; font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; padding: 6px 8px; border-radius: 4px; max-width: 560px; overflow: hidden; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 5px; vertical-align: -1px; border: 1px solid rgba(0,0,0,.15); }
pre.dmesg { background: #f7f8fa; border: 1px solid var(--line); padding: 8px 10px; overflow-x: auto; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; max-height: 360px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; vertical-align: top; }
table.num td { text-align: right; font-variant-numeric: tabular-nums; }
tr.differs td { background: #fff6e0; }
td.basis { color: var(--muted); }
`;
