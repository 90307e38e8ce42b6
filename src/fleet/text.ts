import { duration, grouped } from '../output/format.js';
import { formatTable } from '../output/table.js';
import type { VerdictKind } from '../probe/verdict.js';
import { PAUSE_BUDGET_SOURCE } from './analysis.js';
import type { FleetReport, FleetStats, RiskKind, WaveGroup } from './report-types.js';

/** What each verdict means for a fleet, in one line each (the order of the summary). */
export const VERDICT_LABELS: Readonly<Record<VerdictKind, string>> = {
  safe: 'would load safely',
  unsafe: 'would load unsafe and taint the kernel',
  'refused-minrev': 'refused by the minimum-revision rule (-ENOENT)',
  aborted: 'would abort (offline primary thread, failed run)',
  'no-update': 'no update (nothing newer, no file, rejected)',
  'cannot-late-load': 'cannot late-load on its kernel',
  'not-applicable': 'not applicable (non-Intel CPU, VM guest)',
  unknown: 'unknown (the CPU could not be read)',
};

export const RISK_LABELS: Readonly<Record<RiskKind, string>> = {
  'fallback-panic': 'if staging fails, the unstaged load panics (a sibling waits past 1 s)',
  'fallback-fails': 'if staging fails, the unstaged load does not complete',
  'over-budget': 'stop window over the pause budget (held back)',
  'fallback-over-budget': 'if staging fails, the unstaged stop window is over the budget',
};

/** Text safe on a terminal: control characters in host names or messages shown escaped. */
export function printableText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: exactly these are escaped
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** A long duration as hours, minutes and seconds ("2h43m12s"); shorter ones as duration() gives them. */
export function longDuration(ns: number): string {
  if (ns < 120e9) return duration(ns);
  const s = Math.round(ns / 1e9);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = `${String(m).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
  if (d > 0) return `${d}d${String(h).padStart(2, '0')}h${rest}`;
  return h > 0 ? `${h}h${rest}` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

function share(n: number, of: number): string {
  if (of === 0) return '-';
  const p = (100 * n) / of;
  return `${p > 0 && p < 0.1 ? '<0.1' : p.toFixed(1)}%`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${grouped(n)} ${n === 1 ? one : many}`;
}

function statsRow(label: string, s: FleetStats | null): string[] {
  if (s === null) return [label, '0', '-', '-', '-', '-'];
  return [
    label,
    grouped(s.hosts),
    duration(s.minNs),
    duration(s.medianNs),
    duration(s.p99Ns),
    duration(s.maxNs),
  ];
}

function waveLabel(g: WaveGroup): string {
  return g.first === g.last ? String(g.first) : `${g.first}-${g.last}`;
}

function shapeList(ids: readonly number[], max = 8): string {
  const shown = ids.slice(0, max).join(', ');
  return ids.length > max ? `${shown}, ... (${ids.length})` : shown;
}

/** A wave's shapes ("3", or "7 x771, 18 x733, ... (+52)"): at most 4 named. */
function waveShapes(g: WaveGroup): string {
  if (g.shapes.length === 1) return String(g.shapes[0]!.shape);
  const named = g.shapes.slice(0, 4).map((s) => `${s.shape} x${grouped(s.hosts)}`);
  if (g.shapes.length > 4) named.push(`... (+${g.shapes.length - 4})`);
  return named.join(', ');
}

/** The summary a person reads in one look (what `ucode-staging fleet` prints). */
export function formatFleetSummary(r: FleetReport, opts: { maxWaveRows?: number } = {}): string {
  const out: string[] = [];
  const src = r.inputs.sources;
  const from = [
    src['probe-json'] ? plural(src['probe-json'], 'probe report') : null,
    src['probe-tree'] ? plural(src['probe-tree'], 'saved probe tree') : null,
    src.inventory ? `${plural(src.inventory, 'inventory host')}` : null,
  ].filter((x) => x !== null);
  out.push(
    `ucode-staging fleet: ${plural(r.inputs.hosts, 'host')} in ${plural(r.inputs.shapes, 'shape')} (${grouped(r.inputs.simulated)} simulated${from.length ? `; ${from.join(', ')}` : ''})${r.inputs.problems ? `; ${plural(r.inputs.problems, 'input')} skipped` : ''}`,
    '',
  );

  const hosts = r.inputs.hosts;
  const verdictRows = (Object.keys(VERDICT_LABELS) as VerdictKind[])
    .filter((k) => r.verdicts[k] > 0 || k === 'safe')
    .map((k) => [VERDICT_LABELS[k], grouped(r.verdicts[k]), share(r.verdicts[k], hosts)]);
  out.push(
    ...formatTable(
      [{ header: 'verdict' }, { header: 'hosts', align: 'right' }, { header: 'share', align: 'right' }],
      verdictRows,
    ),
    '',
  );

  const st = r.staging;
  if (st.intelHosts > 0) {
    const parts = [
      `${grouped(st.capable)} of ${plural(st.intelHosts, 'Intel host')} can stage (${share(st.capable, st.intelHosts)})`,
      st.capable > 0
        ? `${grouped(st.capableWithKernel)} with their kernel, ${grouped(st.capableNeedsKernel)} need Linux 6.19+`
        : null,
      st.notCapable > 0 ? `${grouped(st.notCapable)} cannot` : null,
      st.unknown > 0 ? `${grouped(st.unknown)} unknown (MSRs unreadable: probe as root)` : null,
    ].filter((x) => x !== null);
    out.push(`staging      ${parts.join('; ')}`, '');
  }

  const sw = r.stopWindow;
  out.push(`stop window  of the ${plural(sw.hosts, 'host')} that would load`);
  out.push(
    ...formatTable(
      [
        { header: '' },
        { header: 'hosts', align: 'right' },
        { header: 'min', align: 'right' },
        { header: 'median', align: 'right' },
        { header: 'p99', align: 'right' },
        { header: 'max', align: 'right' },
      ],
      [
        statsRow('with staging', sw.withStaging),
        statsRow('without staging', sw.withoutStaging),
        statsRow('as planned', sw.asPlanned),
      ],
      { indent: '  ' },
    ),
  );
  const t = r.stagingTime.asPlanned;
  const all = r.stagingTime.ifAllCapableStaged;
  out.push(
    '',
    t.hosts > 0
      ? `staging time ${plural(t.hosts, 'host')} stage as planned: ${longDuration(t.totalNs)} in all, outside the stop window (${duration(t.maxNs)} at most on one host)${all.hosts > t.hosts ? `; ${longDuration(all.totalNs)} if all ${grouped(all.hosts)} capable hosts that would load staged` : ''}`
      : `staging time no host stages as planned${all.hosts > 0 ? ` (${longDuration(all.totalNs)} if the ${grouped(all.hosts)} capable hosts that would load staged on Linux 6.19+)` : ''}`,
    '',
  );

  const budgetNote =
    r.settings.pauseBudgetSource === PAUSE_BUDGET_SOURCE
      ? 'a planning figure: Azure says most VM-pausing maintenance is under 10 s; --pause-budget to change'
      : r.settings.pauseBudgetSource;
  out.push(`at risk      pause budget ${duration(r.settings.pauseBudgetNs)} (${budgetNote})`);
  const riskRows: string[][] = [];
  for (const [kind, label] of Object.entries(RISK_LABELS) as [RiskKind, string][]) {
    const x = r.risks[kind];
    if (x.hosts === 0 && kind !== 'fallback-panic' && kind !== 'over-budget') continue;
    const examples = r.shapes
      .filter((s) => x.shapes.includes(s.id))
      .flatMap((s) => s.examples)
      .slice(0, 3)
      .map(printableText);
    riskRows.push([
      label,
      grouped(x.hosts),
      x.shapes.length ? `shapes ${shapeList(x.shapes)}` : '',
      examples.length ? `e.g. ${examples.join(', ')}` : '',
    ]);
  }
  out.push(...formatTable([{}, { align: 'right' }, {}, {}], riskRows, { indent: '  ' }), '');

  const ro = r.rollout;
  if (ro.hosts === 0) out.push('rollout      no host to load');
  else {
    const size =
      'hosts' in r.settings.wave
        ? `${grouped(ro.waveSize)}`
        : `${grouped(ro.waveSize)} (${(r.settings.wave.share * 100).toFixed(0)}%)`;
    const gaps = ro.gapsNs > 0 ? ` + ${ro.waves - 1} gaps of ${duration(r.settings.waveGapNs)}` : '';
    out.push(
      `rollout      ${plural(ro.hosts, 'host')} in ${plural(ro.waves, 'wave')} of at most ${size}, safest first: ${longDuration(ro.reloadNs)} of reloads${gaps} = ${longDuration(ro.wallNs)}`,
    );
    const maxRows = opts.maxWaveRows ?? 12;
    const rows = ro.groups
      .slice(0, maxRows)
      .map((g) => [
        waveLabel(g),
        grouped(g.hostsPerWave),
        waveShapes(g),
        duration(g.wallNsEach),
        g.stopWindowMaxNs === null ? '-' : duration(g.stopWindowMaxNs),
      ]);
    out.push(
      ...formatTable(
        [
          { header: 'wave' },
          { header: 'hosts', align: 'right' },
          { header: 'shapes' },
          { header: 'reload', align: 'right' },
          { header: 'longest stop', align: 'right' },
        ],
        rows,
        { indent: '  ' },
      ),
    );
    if (ro.groups.length > maxRows)
      out.push(`  ... ${ro.groups.length - maxRows} more rows (--json, --report)`);
  }
  const held = ro.heldBack;
  if (held.taints > 0 || held['over-budget'] > 0) {
    const parts = [
      held.taints > 0
        ? `${plural(held.taints, 'host')} that would taint the kernel (--include-unsafe adds them)`
        : null,
      held['over-budget'] > 0 ? `${plural(held['over-budget'], 'host')} over the pause budget` : null,
    ].filter((x) => x !== null);
    out.push(`  held back: ${parts.join('; ')}`);
  }
  return `${out.join('\n')}\n`;
}
