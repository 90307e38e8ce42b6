import type { ComparePoint } from '../sim/compare.js';
import { ms } from './format.js';
import { formatTable } from './table.js';

/** The compare command's table: one row per sweep point, staging off against on. */
export function formatCompareTable(points: readonly ComparePoint[]): string {
  const rows = points.map((r) => [
    r.label || 'default',
    ms(r.off.stopWindowNs),
    ms(r.on.stopWindowNs),
    r.stopWindowReductionPct === null ? '-' : `${r.stopWindowReductionPct.toFixed(1)}%`,
    ms(r.on.stagingNs),
    ms(r.off.reloadNs),
    ms(r.on.reloadNs),
    r.on.stagingOk || r.on.outcome !== 'updated' ? r.on.outcome : `${r.on.outcome} (unstaged)`,
  ]);
  const right = { align: 'right' } as const;
  const columns = [
    { header: 'point' },
    { header: 'stop off ms', ...right },
    { header: 'stop on ms', ...right },
    { header: 'reduction', ...right },
    { header: 'staging ms', ...right },
    { header: 'reload off ms', ...right },
    { header: 'reload on ms', ...right },
    { header: 'outcome on' },
  ];
  return `${formatTable(columns, rows, { rule: true }).join('\n')}\n`;
}
