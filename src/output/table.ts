/**
 * The one table printer behind every table we print (summary, inspect,
 * campaign, compare, benchmarks), so they all align, pad and trim alike.
 * Pure: no Node API.
 */

export type TableAlign = 'left' | 'right';

export interface TableColumn {
  /** Header text. A table whose columns all leave it out has no header line. */
  header?: string;
  /** Default 'left'. */
  align?: TableAlign;
  /** Narrowest the column may be: cells are padded to at least this. */
  minWidth?: number;
}

export interface TableOptions {
  /** Put in front of every line (e.g. an indent of two spaces). Default ''. */
  indent?: string;
  /** Between two cells. Default two spaces. */
  gap?: string;
  /** A line of dashes, each the width of its column, under the header (and above the footer). */
  rule?: boolean;
  /** Rows set apart at the bottom (e.g. a total); they count for the widths too. */
  footer?: readonly (readonly string[])[];
  /**
   * 'text' (default): cells padded to their column's width, trailing spaces trimmed.
   * 'markdown': a pipe table, `| a | b |`, always with its `| --- | ---: |` rule; cells are
   * not padded (a Markdown viewer aligns them from the rule) and indent, gap and footer rules do not apply.
   */
  style?: 'text' | 'markdown';
}

/**
 * The table's lines, without line ends. A row with fewer cells than there
 * are columns leaves the rest empty.
 */
export function formatTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string[] {
  const footer = options.footer ?? [];
  const hasHeader = columns.some((c) => c.header !== undefined);
  const header = columns.map((c) => c.header ?? '');
  if (options.style === 'markdown') {
    const pipe = (cells: readonly string[]): string =>
      `| ${columns.map((_, i) => cells[i] ?? '').join(' | ')} |`;
    const rule = columns.map((c) => (c.align === 'right' ? '---:' : '---'));
    return [pipe(header), pipe(rule), ...rows.map(pipe), ...footer.map(pipe)];
  }

  const widths = columns.map((c, i) => {
    let w = Math.max(c.minWidth ?? 0, hasHeader ? header[i]!.length : 0);
    for (const r of rows) w = Math.max(w, (r[i] ?? '').length);
    for (const r of footer) w = Math.max(w, (r[i] ?? '').length);
    return w;
  });
  const indent = options.indent ?? '';
  const gap = options.gap ?? '  ';
  const line = (cells: readonly string[]): string =>
    `${indent}${columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        return c.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join(gap)}`.trimEnd();
  const rule = options.rule ? [line(widths.map((w) => '-'.repeat(w)))] : [];
  const out: string[] = [];
  if (hasHeader) out.push(line(header), ...rule);
  for (const r of rows) out.push(line(r));
  if (footer.length > 0) out.push(...rule, ...footer.map(line));
  return out;
}
