import type { ComparePoint } from '../sim/compare.js';
import { ms } from './format.js';
import { formatTable, type TableColumn } from './table.js';

const right = (header: string): TableColumn => ({ header, align: 'right' });

/**
 * The compare command's table: one row per sweep point, staging off against
 * on, each run's outcome; when points differ in machine or image, each row
 * names its own. Below it, why any run did not update the machine.
 */
export function formatCompareTable(points: readonly ComparePoint[]): string {
  const several = (key: 'machine' | 'image') => new Set(points.map((p) => p[key])).size > 1;
  const withMachine = several('machine');
  const withImage = several('image');
  const columns: TableColumn[] = [
    { header: 'point' },
    ...(withMachine ? [{ header: 'machine' }] : []),
    ...(withImage ? [{ header: 'image' }] : []),
    right('stop off ms'),
    right('stop on ms'),
    right('reduction'),
    right('staging ms'),
    right('reload off ms'),
    right('reload on ms'),
    { header: 'outcome off' },
    { header: 'outcome on' },
  ];
  const rows = points.map((r) => [
    r.label || 'default',
    ...(withMachine ? [r.machine] : []),
    ...(withImage ? [r.image] : []),
    ms(r.off.stopWindowNs),
    ms(r.on.stopWindowNs),
    r.stopWindowReductionPct === null ? '-' : `${r.stopWindowReductionPct.toFixed(1)}%`,
    ms(r.on.stagingNs),
    ms(r.off.reloadNs),
    ms(r.on.reloadNs),
    r.off.outcome,
    r.on.stagingOk || r.on.outcome !== 'updated' ? r.on.outcome : `${r.on.outcome} (unstaged)`,
  ]);
  const lines = formatTable(columns, rows, { rule: true });
  const why: string[] = [];
  for (const p of points) {
    for (const [side, run] of [
      ['staging off', p.off],
      ['staging on', p.on],
    ] as const) {
      if (run.why !== null) why.push(`  ${p.label || 'default'}, ${side}: ${run.outcome}: ${run.why}`);
    }
  }
  if (why.length) lines.push('', 'not updated (exit status 1):', ...why);
  return `${lines.join('\n')}\n`;
}
