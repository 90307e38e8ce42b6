import { grouped } from '../output/format.js';
import { formatTable, type TableColumn } from '../output/table.js';

// Number and Markdown helpers for docs/findings.md. Deterministic: no locale,
// no clock; every figure is rounded the same way on every run.

export { grouped };

/** Seconds of virtual time: "0.816 s", "20.006 s", "835.6 s = 13.9 min" (minutes or hours beside long ones). */
export function seconds(ns: number): string {
  if (!Number.isFinite(ns)) return 'never';
  const s = ns / 1e9;
  const text = s >= 100 ? `${s.toFixed(1)} s` : `${s.toFixed(3)} s`;
  if (s >= 2 * 3600) return `${text} = ${(s / 3600).toFixed(1)} h`;
  if (s >= 120) return `${text} = ${(s / 60).toFixed(1)} min`;
  return text;
}

/** Milliseconds: "62.158 ms". */
export function millis(ns: number): string {
  return Number.isFinite(ns) ? `${(ns / 1e6).toFixed(3)} ms` : 'none';
}

/** A ratio as "8.0x". */
export function times(x: number): string {
  return `${x.toFixed(1)}x`;
}

/** Bytes as "16,633,276 (15.86 MiB)". */
export function sized(n: number): string {
  return `${grouped(n)} (${(n / (1024 * 1024)).toFixed(2)} MiB)`;
}

/** A Markdown pipe table (the library's one table printer, markdown style). */
export function table(
  columns: readonly (string | readonly [string, 'right'])[],
  rows: readonly (readonly string[])[],
): string[] {
  const cols: TableColumn[] = columns.map((c) =>
    typeof c === 'string' ? { header: c } : { header: c[0], align: c[1] },
  );
  // A pipe inside a cell would end it.
  const cells = rows.map((r) => r.map((c) => c.replaceAll('|', '\\|')));
  return formatTable(cols, cells, { style: 'markdown' });
}

/** A shell command as a fenced block. */
export function commandBlock(...commands: string[]): string[] {
  return ['```sh', ...commands, '```'];
}

/** Inline code; the text must not hold a backtick. */
export function code(text: string): string {
  if (text.includes('`')) throw new RangeError(`backtick in inline code: ${text}`);
  return `\`${text}\``;
}
