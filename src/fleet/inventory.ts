import { HZ_VALUES, type Hz } from '../sim/run-args.js';
import type { InventoryKernel } from './jobs.js';

// An inventory plans hosts that have not been probed (or do not exist yet): one row per host,
// or per group of identical hosts (`count`). CSV is read here; YAML is parsed by the caller
// (the CLI loads its parser only then) and its rows checked by the same inventoryRow().

/** One checked inventory row. Paths (machine file, firmware) are as written: the caller resolves them. */
export interface InventoryRow {
  line: number;
  /** The host's name, or with `count` the prefix of `<host>-1` ... `<host>-N`. */
  host: string | null;
  count: number;
  /** A preset name or a machine file (JSON/YAML) path. */
  machine: string;
  kernel: InventoryKernel;
  hz: Hz;
  /** An intel-ucode folder or one microcode file; null: a synthetic image of a realistic size. */
  firmware: string | null;
  /** CPU 0's revision before the load, overriding the machine's initialRevision. */
  revision: number | null;
  forceMinrev: boolean;
  lateLoading: boolean;
}

export const INVENTORY_COLUMNS = [
  'host',
  'count',
  'machine',
  'kernel',
  'hz',
  'firmware',
  'revision',
  'force-minrev',
  'late-loading',
] as const;
export type InventoryColumn = (typeof INVENTORY_COLUMNS)[number];

/** The kernel an inventory row gets when it names none: the staging kernel this model is. */
export const DEFAULT_INVENTORY_KERNEL = '6.19';
/** The tick rate of a row that names none (the model's and the probe's default). */
export const DEFAULT_INVENTORY_HZ: Hz = 1000;
export const MAX_INVENTORY_COUNT = 10_000_000;

export type InventoryValue = string | number | boolean | null | undefined;

export interface LineProblem {
  line: number | null;
  message: string;
}

/** `Force_MinRev` → `force-minrev`. */
export function columnName(raw: string): string {
  return raw.trim().toLowerCase().replace(/_/g, '-');
}

function describe(v: InventoryValue): string {
  return typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v) : String(v);
}

function textOf(v: InventoryValue): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
}

const kernels = new Map<string, InventoryKernel | null>();

/** A kernel release ("6.19", "6.8.0-45-generic"): what it means for the loader. */
export function inventoryKernel(release: string): InventoryKernel | null {
  let k = kernels.get(release);
  if (k === undefined) {
    k = readKernel(release);
    if (kernels.size < 10_000) kernels.set(release, k);
  }
  return k;
}

function readKernel(release: string): InventoryKernel | null {
  const m = /^(\d{1,3})\.(\d{1,3})(?:[.\-+_~].*)?$/.exec(release);
  if (!m) return null;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const atLeast = (a: number, b: number): boolean => major > a || (major === a && minor >= b);
  return {
    release,
    hasStaging: atLeast(6, 19),
    hasMinrevCheck: atLeast(6, 7),
    generation: atLeast(6, 12) ? '6.12+' : 'pre-6.12',
  };
}

function yesNo(column: string, v: InventoryValue, dflt: boolean): boolean | string {
  if (v === null || v === undefined || (typeof v === 'string' && v.trim() === '')) return dflt;
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (['yes', 'y', 'true', 'on', '1'].includes(s)) return true;
  if (['no', 'n', 'false', 'off', '0'].includes(s)) return false;
  return `${column}: expected yes or no, got ${describe(v)}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: names with control characters are refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Check one row's fields (column names already normalised); a problem names the column. */
export function inventoryRow(
  fields: Record<string, InventoryValue>,
  line: number,
): InventoryRow | LineProblem {
  const fail = (message: string): LineProblem => ({ line, message });
  const host = textOf(fields.host);
  if (host !== null && (host.length > 253 || CONTROL.test(host)))
    return fail(`host: ${describe(host)} is not a host name (at most 253 characters, no control characters)`);

  let count = 1;
  const countText = textOf(fields.count);
  if (countText !== null) {
    if (!/^\d+$/.test(countText) || Number(countText) < 1 || Number(countText) > MAX_INVENTORY_COUNT)
      return fail(
        `count: expected a whole number from 1 to ${MAX_INVENTORY_COUNT}, got ${describe(fields.count)}`,
      );
    count = Number(countText);
  } else if (host === null) return fail('a row needs a host name or a count');

  const machine = textOf(fields.machine);
  if (machine === null) return fail('machine: missing (a preset name or a machine file)');

  const release = textOf(fields.kernel) ?? DEFAULT_INVENTORY_KERNEL;
  const kernel = inventoryKernel(release);
  if (kernel === null)
    return fail(`kernel: expected a release such as 6.19 or 6.8.0-45-generic, got ${describe(release)}`);

  let hz: Hz = DEFAULT_INVENTORY_HZ;
  const hzText = textOf(fields.hz);
  if (hzText !== null) {
    const n = Number(hzText);
    if (!(HZ_VALUES as readonly number[]).includes(n))
      return fail(`hz: expected one of ${HZ_VALUES.join(', ')}, got ${describe(fields.hz)}`);
    hz = n as Hz;
  }

  let revision: number | null = null;
  const rev = fields.revision;
  if (typeof rev === 'number') {
    if (!Number.isInteger(rev) || rev < 0 || rev > 0xffff_ffff)
      return fail(`revision: expected a 32-bit revision, got ${describe(rev)}`);
    revision = rev;
  } else {
    const revText = textOf(rev);
    if (revText !== null) {
      if (!/^(0x)?[0-9a-f]{1,8}$/i.test(revText))
        return fail(`revision: expected a hex revision such as 0x10003a2, got ${describe(rev)}`);
      revision = Number.parseInt(revText.replace(/^0x/i, ''), 16);
    }
  }

  const forceMinrev = yesNo('force-minrev', fields['force-minrev'], false);
  if (typeof forceMinrev === 'string') return fail(forceMinrev);
  const lateLoading = yesNo('late-loading', fields['late-loading'], true);
  if (typeof lateLoading === 'string') return fail(lateLoading);

  return {
    line,
    host,
    count,
    machine,
    kernel,
    hz,
    firmware: textOf(fields.firmware),
    revision,
    forceMinrev,
    lateLoading,
  };
}

/** Columns a header names that an inventory does not have (reported once, then ignored). */
export function unknownColumns(names: readonly string[]): string[] {
  return names.filter((n) => n !== '' && !(INVENTORY_COLUMNS as readonly string[]).includes(n));
}

export type CsvRecord = { line: number; cells: string[] } | { line: number; problem: string };

/**
 * One record that holds a quote, from `i`: RFC 4180 cells, a quoted cell may span lines.
 * Returns the cells, where the next record starts and its line, or the line of a quote left open.
 */
function quotedRecord(
  text: string,
  i: number,
  line: number,
): { cells: string[]; next: number; line: number } | { problem: number } {
  const n = text.length;
  const cells: string[] = [];
  let cell = '';
  let quotedCell = false;
  for (;;) {
    if (i >= n) {
      cells.push(cell);
      return { cells, next: n, line };
    }
    const c = text[i]!;
    if (c === '"' && cell === '' && !quotedCell) {
      quotedCell = true;
      const opened = line;
      i++;
      let closed = false;
      while (i < n) {
        const d = text[i]!;
        if (d === '"') {
          if (text[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (d === '\n') line++;
        cell += d;
        i++;
      }
      if (!closed) return { problem: opened };
      continue;
    }
    if (c === ',') {
      cells.push(cell);
      cell = '';
      quotedCell = false;
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      cells.push(cell);
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      return { cells, next: i, line: line + 1 };
    }
    cell += c;
    i++;
  }
}

/**
 * RFC 4180 records with the line each starts on: commas, double quotes ("" inside quotes),
 * LF or CRLF. A record whose first cell starts with '#' is a comment; blank lines are skipped.
 * An unterminated quote is a problem on the line it opened, and ends the file. A line without
 * a quote is split as it is (the common case, and the fast one).
 */
export function* csvRecords(text: string, firstLine = 1): Generator<CsvRecord> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = firstLine;
  const n = text.length;
  while (i < n) {
    const start = line;
    const nl = text.indexOf('\n', i);
    const end = nl < 0 ? n : nl;
    let raw = text.slice(i, end);
    let cells: string[];
    if (!raw.includes('"')) {
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      cells = raw.split(',');
      i = end + 1;
      line++;
    } else {
      const r = quotedRecord(text, i, line);
      if ('problem' in r) {
        yield { line: r.problem, problem: 'a quoted cell is not closed (a missing ")' };
        return;
      }
      cells = r.cells;
      i = r.next;
      line = r.line;
    }
    if (cells.length === 1 && cells[0]!.trim() === '') continue;
    if (cells[0]!.trimStart().startsWith('#')) continue;
    yield { line: start, cells };
  }
}

/** An inventory CSV's rows, checked; the first record is the header. */
export function* inventoryCsvRows(input: string | Iterable<string>): Generator<InventoryRow | LineProblem> {
  let header: string[] | null = null;
  let line = 1;
  for (const segment of typeof input === 'string' ? [input] : input) {
    for (const record of csvRecords(segment, line)) {
      if ('problem' in record) {
        yield { line: record.line, message: record.problem };
        return;
      }
      if (header === null) {
        header = record.cells.map(columnName);
        const unknown = unknownColumns(header);
        if (unknown.length > 0)
          yield {
            line: record.line,
            message: `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => describe(u)).join(', ')} ignored (known: ${INVENTORY_COLUMNS.join(', ')})`,
          };
        if (!header.includes('machine')) {
          yield {
            line: record.line,
            message: `no 'machine' column in the header (columns: ${INVENTORY_COLUMNS.join(', ')})`,
          };
          return;
        }
        continue;
      }
      if (
        record.cells.length > header.length &&
        record.cells.slice(header.length).some((c) => c.trim() !== '')
      ) {
        yield { line: record.line, message: `${record.cells.length} cells, the header has ${header.length}` };
        continue;
      }
      const fields: Record<string, InventoryValue> = {};
      header.forEach((name, k) => {
        fields[name] = record.cells[k];
      });
      yield inventoryRow(fields, record.line);
    }
    for (let at = segment.indexOf('\n'); at >= 0; at = segment.indexOf('\n', at + 1)) line++;
  }
  if (header === null) yield { line: null, message: 'an empty inventory (no header row)' };
}

/**
 * Text in pieces (a file read in chunks) cut where a record ends: at a line end outside
 * quotes. Pieces of a big inventory go to inventoryCsvRows() one at a time, so memory holds
 * a chunk, not the file.
 */
export function* csvSegments(chunks: Iterable<string>): Generator<string> {
  let pending = '';
  let inQuotes = false;
  for (const chunk of chunks) {
    const from = pending.length;
    pending += chunk;
    let cut = -1;
    if (!inQuotes && chunk.indexOf('"') < 0) {
      // No quote in this chunk: its last line end is a record end (what came before had none).
      const at = chunk.lastIndexOf('\n');
      if (at >= 0) cut = from + at;
    } else
      for (let i = from; i < pending.length; i++) {
        const c = pending.charCodeAt(i);
        if (c === 34) inQuotes = !inQuotes;
        else if (c === 10 && !inQuotes) cut = i;
      }
    if (cut >= 0) {
      yield pending.slice(0, cut + 1);
      pending = pending.slice(cut + 1);
    }
  }
  if (pending !== '') yield pending;
}

/** The names of a row's hosts: the host itself, or `<prefix>-1` ... `<prefix>-N`. */
export function rowHostName(
  row: Pick<InventoryRow, 'host' | 'count' | 'line'>,
  k: number,
  file: string,
): string {
  if (row.count === 1 && row.host !== null) return row.host;
  const prefix = row.host ?? `${file}:${row.line}`;
  return `${prefix}-${k + 1}`;
}
