import type { FleetShapeReport, Where } from './report-types.js';

/** The per-host CSV's columns (docs/fleet.md). Times in milliseconds, revisions in hex. */
export const FLEET_CSV_HEADER = [
  'host',
  'file',
  'line',
  'shape',
  'verdict',
  'taints',
  'signature',
  'revision',
  'new_revision',
  'run',
  'stop_window_ms',
  'stop_window_staged_ms',
  'stop_window_unstaged_ms',
  'staging_ms',
  'reload_ms',
  'risks',
  'wave',
  'held_back',
] as const;

/**
 * One CSV cell: quoted when it holds a comma, quote or line end; a text cell that a spreadsheet
 * would run as a formula (= + - @ first) gets a leading apostrophe.
 */
export function csvCell(value: string): string {
  let v = value;
  if (/^[=+\-@\t\r]/.test(v) && !/^-?\d+(\.\d+)?$/.test(v)) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\n`;
}

function msCell(ns: number | null | undefined): string {
  return ns === null || ns === undefined ? '' : (ns / 1e6).toFixed(3);
}

/** One host's row: its name and place, its shape's figures, its wave. */
export function hostCsvCells(
  name: string,
  where: Where,
  shape: FleetShapeReport,
  wave: number | null,
): string[] {
  const p = shape.prediction;
  return [
    name,
    where.file,
    where.line === null ? '' : String(where.line),
    String(shape.id),
    shape.verdict.kind,
    shape.verdict.taints === null ? '' : shape.verdict.taints ? 'yes' : 'no',
    shape.signature ?? '',
    shape.revision ?? '',
    shape.update?.revision ?? '',
    shape.planned?.run ?? '',
    msCell(shape.planned?.stopWindowNs),
    msCell(p?.withStaging?.stopWindowNs),
    msCell(p?.withoutStaging.stopWindowNs),
    msCell(shape.planned?.run === 'with-staging' ? shape.planned.stagingNs : null),
    msCell(shape.planned?.reloadNs),
    shape.risks.join(' '),
    wave === null ? '' : String(wave),
    shape.rollout.heldBack ?? '',
  ];
}
