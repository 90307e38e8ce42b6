import { duration, escapeHtml, grouped } from '../output/format.js';
import type { VerdictKind } from '../probe/verdict.js';
import type { FleetReport, FleetShapeReport, FleetStats, RiskKind } from './report-types.js';
import { longDuration, RISK_LABELS, VERDICT_LABELS } from './text.js';

// The fleet's HTML report: one self-contained page (inline CSS and SVG, no script, no
// network), in the simulate report's style: cards, the stop-window distribution as an inline
// SVG histogram, the hosts at risk, the rollout's waves, every shape, the skipped inputs.

export interface FleetReportInput {
  report: FleetReport;
  title?: string;
  /** Shapes listed in the shapes table (the most hosts first); default 2,000. */
  maxShapeRows?: number;
}

const COLORS = { withStaging: '#2e7d32', withoutStaging: '#ef6c00', budget: '#c62828' } as const;

function attr(testid: string, data: Record<string, string | number> = {}): string {
  return ` data-testid="${testid}"${Object.entries(data)
    .map(([k, v]) => ` data-${k}="${escapeHtml(String(v))}"`)
    .join('')}`;
}

function pct(n: number, of: number): string {
  return of === 0 ? '-' : `${((100 * n) / of).toFixed(1)}%`;
}

function ns(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : duration(v);
}

/** Quarter-decade bins over the stop windows with and without staging, counted in hosts. */
export interface Histogram {
  edgesNs: number[];
  withStaging: number[];
  withoutStaging: number[];
}

export function stopWindowHistogram(report: FleetReport): Histogram {
  const points: { a: number | null; b: number | null; hosts: number }[] = report.shapes
    .filter((s) => s.planned !== null)
    .map((s) => ({
      a: (s.prediction?.withStaging ?? s.prediction?.withoutStaging)?.stopWindowNs ?? null,
      b: s.prediction?.withoutStaging.stopWindowNs ?? null,
      hosts: s.hosts,
    }));
  const values = points.flatMap((p) => [p.a, p.b]).filter((v): v is number => v !== null && v > 0);
  if (values.length === 0) return { edgesNs: [], withStaging: [], withoutStaging: [] };
  const lo = Math.floor(Math.log10(Math.min(...values)) * 4) / 4;
  let hi = Math.ceil(Math.log10(Math.max(...values)) * 4) / 4;
  if (hi <= lo) hi = lo + 0.25;
  const bins = Math.round((hi - lo) * 4);
  const edgesNs = Array.from({ length: bins + 1 }, (_, i) => 10 ** (lo + i / 4));
  const bin = (v: number): number =>
    Math.min(bins - 1, Math.max(0, Math.floor((Math.log10(v) - lo) * 4 + 1e-9)));
  const withStaging = new Array<number>(bins).fill(0);
  const withoutStaging = new Array<number>(bins).fill(0);
  for (const p of points) {
    if (p.a !== null && p.a > 0) withStaging[bin(p.a)]! += p.hosts;
    if (p.b !== null && p.b > 0) withoutStaging[bin(p.b)]! += p.hosts;
  }
  return { edgesNs, withStaging, withoutStaging };
}

function histogramSvg(h: Histogram, budgetNs: number): string {
  if (h.edgesNs.length === 0) return '<p class="note">No host would load: nothing to chart.</p>';
  const bins = h.withStaging.length;
  const left = 64;
  const plotW = Math.max(360, Math.min(900, bins * 44));
  const plotH = 220;
  const top = 14;
  const width = left + plotW + 20;
  const height = top + plotH + 52;
  const max = Math.max(1, ...h.withStaging, ...h.withoutStaging);
  const binW = plotW / bins;
  const barW = Math.max(2, binW / 2 - 2);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  // Horizontal grid and host counts.
  for (let i = 0; i <= 4; i++) {
    const v = Math.round((max * i) / 4);
    const yy = y(v).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${yy}" y2="${yy}" stroke="#dde1e8"/><text x="${left - 6}" y="${(Number(yy) + 4).toFixed(1)}" text-anchor="end">${grouped(v)}</text>`,
    );
  }
  for (let i = 0; i < bins; i++) {
    const x = left + i * binW;
    const range = `${duration(h.edgesNs[i]!)} to ${duration(h.edgesNs[i + 1]!)}`;
    for (const [k, series, color] of [
      [0, h.withStaging, COLORS.withStaging],
      [1, h.withoutStaging, COLORS.withoutStaging],
    ] as const) {
      const v = series[i]!;
      if (v === 0) continue;
      const yy = y(v);
      parts.push(
        `<rect class="bar" data-series="${k === 0 ? 'with-staging' : 'without-staging'}" data-bin="${i}" data-hosts="${v}" x="${(x + 1 + k * (barW + 1)).toFixed(1)}" y="${yy.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(1, top + plotH - yy).toFixed(1)}" fill="${color}"><title>${escapeHtml(`${k === 0 ? 'with staging' : 'without staging'}: ${grouped(v)} hosts, ${range}`)}</title></rect>`,
      );
    }
  }
  // Decade labels on the log axis (the bin edges when the range is within one decade).
  const lo = Math.log10(h.edgesNs[0]!);
  const hi = Math.log10(h.edgesNs[bins]!);
  const xOf = (v: number) => left + ((Math.log10(v) - lo) / (hi - lo)) * plotW;
  const decades: number[] = [];
  for (let e = Math.ceil(lo - 1e-9); e <= hi + 1e-9; e++) decades.push(10 ** e);
  for (const v of decades.length >= 2 ? decades : [h.edgesNs[0]!, h.edgesNs[bins]!]) {
    const x = xOf(v).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${top + plotH}" y2="${top + plotH + 5}" stroke="#5d6675"/><text x="${x}" y="${top + plotH + 18}" text-anchor="middle">${axisLabel(v)}</text>`,
    );
  }
  if (budgetNs >= h.edgesNs[0]! && budgetNs <= h.edgesNs[bins]!) {
    const x = xOf(budgetNs).toFixed(1);
    parts.push(
      `<line data-testid="budget-line" x1="${x}" x2="${x}" y1="${top}" y2="${top + plotH}" stroke="${COLORS.budget}" stroke-dasharray="4 3"/><text x="${x}" y="${top - 3}" text-anchor="middle" fill="${COLORS.budget}">pause budget</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#5d6675"/>`,
    `<text x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle">stop window (log scale)</text>`,
    `<text x="14" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + plotH / 2})">hosts</text>`,
  );
  return `<svg${attr('stop-window-chart', { bins })} role="img" aria-label="Stop window distribution with and without staging" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>
<div class="legend"><span><i style="background:${COLORS.withStaging}"></i>with staging (where the CPU can)</span><span><i style="background:${COLORS.withoutStaging}"></i>without staging</span><span><i style="background:${COLORS.budget}"></i>pause budget ${escapeHtml(duration(budgetNs))}</span></div>`;
}

/** 1e6 -> "1 ms", 3.16e7 -> "31.6 ms": short labels for the chart's axis. */
export function axisLabel(ns: number): string {
  const [unit, div] = ns >= 1e9 ? ['s', 1e9] : ns >= 1e6 ? ['ms', 1e6] : ns >= 1e3 ? ['us', 1e3] : ['ns', 1];
  const v = ns / div;
  return `${Number(v.toPrecision(3))} ${unit}`;
}

function statsRow(label: string, s: FleetStats | null, key: string): string {
  const cells =
    s === null
      ? ['0', '-', '-', '-', '-']
      : [grouped(s.hosts), ns(s.minNs), ns(s.medianNs), ns(s.p99Ns), ns(s.maxNs)];
  return `<tr${attr(`stats-${key}`, s === null ? {} : { median: s.medianNs, p99: s.p99Ns, max: s.maxNs })}><th>${label}</th>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

function machineText(s: FleetShapeReport): string {
  const t = s.topology;
  const topo =
    t === null ? '' : ` ${t.packages}x${t.coresPerPackage}x${t.threadsPerCore} (${grouped(t.cpus)} CPUs)`;
  return `${s.model ?? s.vendor ?? 'unknown CPU'}${topo}`;
}

function updateText(s: FleetShapeReport): string {
  if (s.update === null) return s.revision ?? '-';
  return `${s.revision ?? '?'} -> ${s.update.revision}`;
}

function kernelText(s: FleetShapeReport): string {
  const k = s.kernel;
  return `${k.release ?? 'unknown'}${k.hz !== null ? `, HZ ${k.hz}` : ''}`;
}

function riskRows(report: FleetReport): string {
  const rows: string[] = [];
  for (const s of report.shapes) {
    if (s.risks.length === 0) continue;
    const fb = s.fallback;
    rows.push(
      `<tr${attr('risk-row', { shape: s.id, hosts: s.hosts, risks: s.risks.join(' ') })}><td>${s.id}</td><td class="n">${grouped(s.hosts)}</td><td>${s.risks.map((r) => `<span class="risk">${escapeHtml(RISK_LABELS[r])}</span>`).join('<br>')}</td><td>${escapeHtml(machineText(s))}</td><td class="n">${ns(s.planned?.stopWindowNs)}</td><td>${fb === null ? '-' : `${escapeHtml(fb.outcome)}, ${ns(fb.stopWindowNs)}`}</td><td>${escapeHtml(s.examples.join(', '))}${s.hosts > s.examples.length ? ', ...' : ''}</td></tr>`,
    );
  }
  if (rows.length === 0) return `<p class="ok"${attr('at-risk-none')}>No host at risk.</p>`;
  return `<table${attr('at-risk')}><thead><tr><th>shape</th><th>hosts</th><th>risk</th><th>machine</th><th>stop window as planned</th><th>if staging fails</th><th>hosts (first few)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function rolloutSection(report: FleetReport): string {
  const ro = report.rollout;
  const held = ro.heldBack;
  const heldText = [
    held.taints > 0
      ? `${grouped(held.taints)} hosts that would taint the kernel are held back (--include-unsafe adds them)`
      : '',
    held['over-budget'] > 0
      ? `${grouped(held['over-budget'])} hosts over the pause budget are held back`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
  if (ro.hosts === 0)
    return `<section><h2>Rollout</h2><p class="note">No host to load.${heldText ? ` ${escapeHtml(heldText)}.` : ''}</p></section>`;
  const rows = ro.groups
    .map(
      (g) =>
        `<tr${attr('wave-row', { first: g.first, last: g.last, hosts: g.hostsPerWave })}><td>${g.first === g.last ? g.first : `${g.first}-${g.last}`}</td><td class="n">${grouped(g.hostsPerWave)}</td><td>${g.shapes.map((x) => `${x.shape} (${grouped(x.hosts)})`).join(', ')}</td><td class="n">${ns(g.wallNsEach)}</td><td class="n">${ns(g.stopWindowMaxNs)}</td></tr>`,
    )
    .join('');
  return `<section><h2>Rollout</h2>
<p${attr('rollout-summary', { hosts: ro.hosts, waves: ro.waves, 'wall-ns': ro.wallNs })}>${grouped(ro.hosts)} hosts in ${grouped(ro.waves)} waves of at most ${grouped(ro.waveSize)}, safest first (safe before unsafe, then no risk before a fallback risk, then the shortest stop window): ${escapeHtml(longDuration(ro.reloadNs))} of reloads${ro.gapsNs > 0 ? ` + ${escapeHtml(longDuration(ro.gapsNs))} of gaps` : ''} = <b>${escapeHtml(longDuration(ro.wallNs))}</b>. Each wave takes as long as its longest reload (its hosts load in parallel).</p>
${heldText ? `<p class="note">${escapeHtml(heldText)}.</p>` : ''}
<table${attr('waves')}><thead><tr><th>waves</th><th>hosts each</th><th>shapes (hosts)</th><th>reload (wave time)</th><th>longest stop window</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function shapesSection(report: FleetReport, max: number): string {
  const shapes = [...report.shapes].sort((a, b) => b.hosts - a.hosts || a.id - b.id);
  const shown = shapes.slice(0, max);
  const rows = shown
    .map((s) => {
      const p = s.prediction;
      return `<tr${attr('shape-row', { shape: s.id, hosts: s.hosts, verdict: s.verdict.kind })}><td>${s.id}</td><td class="n">${grouped(s.hosts)}</td><td class="v-${s.verdict.kind}">${escapeHtml(s.verdict.kind)}</td><td>${escapeHtml(machineText(s))}</td><td>${escapeHtml(s.signature ?? '-')}</td><td>${escapeHtml(updateText(s))}${s.update ? ` (${grouped(s.update.imageBytes)} B)` : ''}</td><td>${escapeHtml(kernelText(s))}</td><td>${escapeHtml(s.staging.support)}${s.planned ? `, ${escapeHtml(s.planned.run)}` : ''}</td><td class="n">${ns(p?.withStaging?.stopWindowNs)}</td><td class="n">${ns(p?.withoutStaging.stopWindowNs)}</td><td class="n">${s.rollout.firstWave === null ? '-' : s.rollout.firstWave === s.rollout.lastWave ? s.rollout.firstWave : `${s.rollout.firstWave}-${s.rollout.lastWave}`}</td><td>${escapeHtml(s.examples.join(', '))}${s.hosts > s.examples.length ? ', ...' : ''}</td></tr>`;
    })
    .join('');
  const note =
    shapes.length > max
      ? `<p class="note">The ${grouped(max)} shapes with the most hosts of ${grouped(shapes.length)}; --json has them all.</p>`
      : '';
  return `<section><h2>Shapes</h2><p class="note">Hosts with the same verdict, machine, revisions, image, kernel and prediction are one shape: simulated once.</p>${note}
<table${attr('shapes')}><thead><tr><th>shape</th><th>hosts</th><th>verdict</th><th>machine</th><th>signature</th><th>revision</th><th>kernel</th><th>staging</th><th>stop, staged</th><th>stop, unstaged</th><th>waves</th><th>hosts (first few)</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function problemsSection(report: FleetReport): string {
  if (report.inputs.problems === 0) return '';
  const items = report.problems
    .map(
      (p) =>
        `<li${attr('problem')}><code>${escapeHtml(p.file)}${p.line === null ? '' : `:${p.line}`}</code>: ${escapeHtml(p.message)}</li>`,
    )
    .join('');
  const more =
    report.problemsOmitted > 0 ? `<p class="note">... and ${grouped(report.problemsOmitted)} more.</p>` : '';
  return `<section><h2>Skipped inputs (${grouped(report.inputs.problems)})</h2><ul class="problems">${items}</ul>${more}</section>`;
}

/** The fleet's report as one self-contained HTML page. */
export function renderFleetReport(input: FleetReportInput): string {
  const r = input.report;
  const title = input.title ?? `Microcode late load across ${grouped(r.inputs.hosts)} hosts`;
  const hosts = r.inputs.hosts;
  const atRisk = r.shapes.filter((s) => s.risks.length > 0).reduce((n, s) => n + s.hosts, 0);
  const cards: [string, string, string][] = [
    [
      'hosts',
      `${grouped(hosts)} in ${grouped(r.inputs.shapes)} shapes`,
      attr('card-hosts', { value: hosts }),
    ],
    [
      'would load safely',
      `${grouped(r.verdicts.safe)} (${pct(r.verdicts.safe, hosts)})`,
      attr('card-safe', { value: r.verdicts.safe }),
    ],
    [
      'can stage',
      r.staging.capableShare === null
        ? '-'
        : `${grouped(r.staging.capable)} (${(r.staging.capableShare * 100).toFixed(1)}% of Intel hosts)`,
      attr('card-staging', { value: r.staging.capable }),
    ],
    ['at risk', grouped(atRisk), attr('card-at-risk', { value: atRisk })],
    [
      'median stop window, as planned',
      ns(r.stopWindow.asPlanned?.medianNs),
      attr('card-median', { ns: r.stopWindow.asPlanned?.medianNs ?? '' }),
    ],
    [
      'rollout',
      `${grouped(r.rollout.waves)} waves, ${longDuration(r.rollout.wallNs)}`,
      attr('card-rollout', { ns: r.rollout.wallNs }),
    ],
  ];
  const verdictRows = (Object.keys(VERDICT_LABELS) as VerdictKind[])
    .map(
      (k) =>
        `<tr${attr('verdict-row', { kind: k, hosts: r.verdicts[k] })}><td class="v-${k}">${escapeHtml(VERDICT_LABELS[k])}</td><td class="n">${grouped(r.verdicts[k])}</td><td class="n">${pct(r.verdicts[k], hosts)}</td></tr>`,
    )
    .join('');
  const st = r.staging;
  const t = r.stagingTime;
  const body = [
    `<header><h1>${escapeHtml(title)}</h1><p class="note">Virtual time from the ucode-staging model (docs/cost-model.md); a host's figures are its probe's prediction or the model's run of its inventory row. Schema ${escapeHtml(r.schema)}.</p></header>`,
    `<section class="cards">${cards.map(([k, v, a]) => `<div class="card"${a}><div class="k">${escapeHtml(k)}</div><div class="v">${escapeHtml(v)}</div></div>`).join('')}</section>`,
    `<section><h2>Verdicts</h2><table${attr('verdicts')}><thead><tr><th>verdict</th><th>hosts</th><th>share</th></tr></thead><tbody>${verdictRows}</tbody></table>
<p class="note">Staging: ${grouped(st.capable)} of ${grouped(st.intelHosts)} Intel hosts can stage (${grouped(st.capableWithKernel)} with their kernel, ${grouped(st.capableNeedsKernel)} need Linux 6.19+), ${grouped(st.notCapable)} cannot, ${grouped(st.unknown)} unknown.</p></section>`,
    `<section><h2>Stop window</h2><p class="note">All CPUs of a host stand still for its stop window. Of the ${grouped(r.stopWindow.hosts)} hosts that would load; "with staging" stages wherever the CPU can (on Linux 6.19+), "as planned" stages only where the CPU and the running kernel both do.</p>
<figure class="chart">${histogramSvg(stopWindowHistogram(r), r.settings.pauseBudgetNs)}</figure>
<table class="stats"${attr('stop-window-stats')}><thead><tr><th></th><th>hosts</th><th>min</th><th>median</th><th>p99</th><th>max</th></tr></thead><tbody>${statsRow('with staging', r.stopWindow.withStaging, 'with-staging')}${statsRow('without staging', r.stopWindow.withoutStaging, 'without-staging')}${statsRow('as planned', r.stopWindow.asPlanned, 'as-planned')}</tbody></table>
<p class="note">Staging time outside the stop window: ${escapeHtml(longDuration(t.asPlanned.totalNs))} over ${grouped(t.asPlanned.hosts)} hosts as planned; ${escapeHtml(longDuration(t.ifAllCapableStaged.totalNs))} if all ${grouped(t.ifAllCapableStaged.hosts)} capable hosts that would load staged.</p></section>`,
    `<section><h2>Hosts at risk</h2><p class="note">Pause budget <b>${escapeHtml(duration(r.settings.pauseBudgetNs))}</b>: ${escapeHtml(r.settings.pauseBudgetSource)}.</p>${(
      Object.keys(RISK_LABELS) as RiskKind[]
    )
      .map(
        (k) =>
          `<span class="pill"${attr('risk-count', { kind: k, hosts: r.risks[k].hosts })}>${escapeHtml(RISK_LABELS[k])}: ${grouped(r.risks[k].hosts)}</span>`,
      )
      .join(' ')}${riskRows(r)}</section>`,
    rolloutSection(r),
    shapesSection(r, input.maxShapeRows ?? 2000),
    problemsSection(r),
    `<section><h2>Settings</h2><table${attr('settings')}><tbody><tr><th>pause budget</th><td>${escapeHtml(duration(r.settings.pauseBudgetNs))}</td></tr><tr><th>wave</th><td>${'hosts' in r.settings.wave ? `at most ${grouped(r.settings.wave.hosts)} hosts` : `${(r.settings.wave.share * 100).toFixed(1)}% of the planned hosts`}</td></tr><tr><th>gap between waves</th><td>${escapeHtml(duration(r.settings.waveGapNs))}</td></tr><tr><th>unsafe hosts</th><td>${r.settings.includeUnsafe ? 'in the rollout' : 'held back'}</td></tr><tr><th>cost overrides</th><td>${escapeHtml(r.settings.cost === null ? 'none' : JSON.stringify(r.settings.cost))}</td></tr></tbody></table></section>`,
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
</body>
</html>
`;
}

const CSS = `
:root { color-scheme: light; --fg:#1d2330; --muted:#5d6675; --line:#dde1e8; }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 16px 24px 40px; max-width: 1500px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
h1 { font-size: 22px; margin: 4px 0; }
h2 { font-size: 17px; margin: 22px 0 8px; }
.note { color: var(--muted); margin: 4px 0; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; margin-top: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.card .k { color: var(--muted); font-size: 13px; }
.card .v { font-weight: 600; font-size: 16px; font-variant-numeric: tabular-nums; }
.chart { margin: 6px 0; }
.chart svg { font: 11px system-ui, sans-serif; fill: var(--fg); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 5px; vertical-align: -1px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; vertical-align: top; }
td.n, table.stats td { text-align: right; font-variant-numeric: tabular-nums; }
.v-safe { color: #1b5e20; } .v-unsafe { color: #8a5a00; } .v-refused-minrev, .v-aborted, .v-cannot-late-load { color: #b71c1c; }
.risk { color: #b71c1c; }
.pill { display: inline-block; border: 1px solid var(--line); border-radius: 10px; padding: 1px 8px; margin: 2px 4px 6px 0; font-size: 12px; }
.ok { color: #1b5e20; }
ul.problems { font-size: 13px; }
`;
