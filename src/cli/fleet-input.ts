import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import {
  collectHostFiles,
  type FleetPlanner,
  fleet,
  format,
  type InventoryImage,
  type InventoryRow,
  type InventoryValue,
  inventoryCsvRows,
  inventoryRow,
  type MachineInput,
  presetNames,
  type ResolvedRow,
  resolveMachine,
  SimulationInputError,
} from '../index.js';
import { describeErrno, UsageError } from './io.js';
import { FsHostReader } from './probe-host-reader.js';
import { describeFileType, MICROCODE_FILE_MAX_BYTES, readInputFile, readInputText } from './read-input.js';
import { loadMachine } from './sim-options.js';

// Finding and reading fleet inputs: probe reports (files, folders, globs), saved probe trees and
// inventories. Everything read goes into the library's FleetPlanner; a bad input is a problem
// (file and line) there, never an exception, except a command-line operand that does not exist.

/** One input to read: a probe report, a saved probe tree or an inventory. */
export type FleetInput =
  | { kind: 'probe-json'; path: string; name: string }
  | { kind: 'probe-tree'; path: string; name: string }
  | { kind: 'inventory'; path: string; format: 'csv' | 'yaml' }
  | { kind: 'unreadable'; path: string; why: string };

/** A probe report is read up to this size (one host's JSON is a few KiB). */
export const PROBE_REPORT_MAX_BYTES = 16 << 20;
/** An inventory is read up to this size (a row is about 60 bytes: millions of rows). */
export const INVENTORY_MAX_BYTES = 512 << 20;

const GLOB = /[*?[]/;

function isTree(dir: string): boolean {
  for (const p of ['proc/cpuinfo', 'sys/devices/system/cpu']) {
    try {
      lstatSync(join(dir, p));
      return true;
    } catch {
      // not there
    }
  }
  return false;
}

function classifyFile(path: string): FleetInput {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return { kind: 'inventory', path, format: 'csv' };
  if (ext === '.yaml' || ext === '.yml') return { kind: 'inventory', path, format: 'yaml' };
  const name = basename(path);
  return { kind: 'probe-json', path, name: ext === '.json' ? name.slice(0, -5) : name };
}

/** `*`, `?` and `[...]` within a path segment; `**` for any depth of folders. */
function segmentRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = segment.slice(i + 1, end);
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else re += c.replace(/[\\^$.|+(){}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  } catch {
    return [];
  }
}

/** The paths a glob matches, sorted (a shell expands unquoted globs itself; this is for quoted ones). */
export function expandGlob(pattern: string): string[] {
  const absolute = isAbsolute(pattern);
  const segments = pattern.split('/').filter((s) => s !== '' && s !== '.');
  const out: string[] = [];
  const walk = (base: string, i: number): void => {
    if (i === segments.length) {
      out.push(base);
      return;
    }
    const seg = segments[i]!;
    if (seg === '**') {
      walk(base, i + 1);
      for (const e of listDir(base || '.'))
        if (e.isDirectory() && !e.name.startsWith('.')) walk(join(base, e.name), i);
      return;
    }
    if (!GLOB.test(seg)) {
      walk(base === '' ? seg : join(base, seg), i + 1);
      return;
    }
    const re = segmentRegex(seg);
    for (const e of listDir(base || '.')) {
      if (e.name.startsWith('.') && !seg.startsWith('.')) continue;
      if (re.test(e.name)) walk(join(base, e.name), i + 1);
    }
  };
  walk(absolute ? '/' : '', 0);
  return [...new Set(out.filter((p) => exists(p)))].sort();
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function walkFolder(dir: string, out: FleetInput[], depth: number): void {
  for (const e of listDir(dir)) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    // The entry's type comes with the listing; only a symlink (or an unknown type) needs a stat.
    let isDirectory = e.isDirectory();
    let isFile = e.isFile();
    if (!isDirectory && !isFile) {
      let st: Stats;
      try {
        st = statSync(path);
      } catch (err) {
        out.push({ kind: 'unreadable', path, why: describeErrno(err) });
        continue;
      }
      isDirectory = st.isDirectory();
      isFile = st.isFile();
      if (!isDirectory && !isFile) {
        out.push({ kind: 'unreadable', path, why: `it is ${describeFileType(st)}, not a regular file` });
        continue;
      }
    }
    if (isDirectory) {
      if (isTree(path)) out.push({ kind: 'probe-tree', path, name: e.name });
      else if (depth < 8) walkFolder(path, out, depth + 1);
      continue;
    }
    const input = classifyFile(path);
    // Found in a folder, a file without the .json extension is read only if it looks like JSON
    // (pssh writes each host's output to a file named after the host): firmware, notes and
    // scripts next to the reports are left alone.
    if (input.kind !== 'probe-json' || extname(path).toLowerCase() === '.json' || looksLikeJson(path))
      out.push(input);
  }
}

/** Empty (a host that printed nothing), or text whose first character is '{'. */
function looksLikeJson(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const head = Buffer.alloc(256);
    const n = readSync(fd, head, 0, head.length, 0);
    const text = head
      .subarray(0, n)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    return text === '' || text.startsWith('{');
  } catch {
    return true; // reading it again reports why it cannot be read
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The inputs the operands name: a file (by extension an inventory, else a probe report), a
 * saved probe tree, a folder of any of these (searched, hidden entries skipped), or a glob.
 * An operand that names nothing is a usage error.
 */
export function findInputs(operands: readonly string[]): FleetInput[] {
  const out: FleetInput[] = [];
  for (const operand of operands) {
    if (operand === '') throw new UsageError('an empty input path');
    let paths = [operand];
    if (!exists(operand)) {
      if (!GLOB.test(operand)) throw new UsageError(`input '${operand}' does not exist`);
      paths = expandGlob(operand);
      if (paths.length === 0) throw new UsageError(`no file matches '${operand}'`);
    }
    for (const path of paths) {
      const st = statSync(path);
      if (st.isDirectory()) {
        if (isTree(path)) out.push({ kind: 'probe-tree', path, name: basename(resolve(path)) });
        else walkFolder(path, out, 0);
      } else if (st.isFile()) out.push(classifyFile(path));
      else out.push({ kind: 'unreadable', path, why: `it is ${describeFileType(st)}, not a regular file` });
    }
  }
  return out;
}

/** Read one probe report or saved tree into the planner; a problem is recorded there. */
export function readHostInput(
  input: FleetInput & { kind: 'probe-json' | 'probe-tree' | 'unreadable' },
  planner: FleetPlanner,
  firmwareDir: string | undefined,
): void {
  const where = { file: input.path, line: null };
  if (input.kind === 'unreadable') {
    planner.problem(where, `cannot read: ${input.why}`);
    return;
  }
  if (input.kind === 'probe-json') {
    let text: string;
    try {
      text = readInputText(input.path, { what: 'probe report', maxBytes: PROBE_REPORT_MAX_BYTES });
    } catch (err) {
      planner.problem(where, err instanceof Error ? err.message : String(err));
      return;
    }
    planner.addProbeReport(text, where, input.name);
    return;
  }
  let files: ReturnType<typeof collectHostFiles>;
  try {
    files = collectHostFiles(new FsHostReader(input.path, firmwareDir), {
      firmwareFolderOnly: firmwareDir !== undefined,
    });
  } catch (err) {
    planner.problem(
      where,
      `cannot read the saved probe tree: ${err instanceof Error ? err.message : String(err)}`,
    );
    return;
  }
  const nothing = [
    '/proc/cpuinfo',
    '/sys/devices/system/cpu/online',
    '/sys/devices/system/cpu/present',
  ].every((p) => files.get(p)?.kind !== 'file');
  if (nothing) {
    planner.problem(where, 'nothing to probe: neither proc/cpuinfo nor sys/devices/system/cpu can be read');
    return;
  }
  planner.addHostFiles(files, where, input.name, { firmwareFolderOnly: firmwareDir !== undefined });
}

/** An inventory row's fields from YAML: scalars only. */
function yamlFields(value: unknown): Record<string, InventoryValue> | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'expected a mapping of column: value';
  const fields: Record<string, InventoryValue> = {};
  for (const [k, v] of Object.entries(value)) {
    const name = fleet.inventoryColumnName(k);
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) fields[name] = v as InventoryValue;
    else return `${name}: expected a single value`;
  }
  return fields;
}

type RowOrProblem = InventoryRow | { line: number | null; message: string };

async function* yamlRows(text: string): AsyncGenerator<RowOrProblem> {
  const { parseDocument, LineCounter, isMap, isSeq } = await import('yaml');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    yield { line: lines.linePos(e.pos[0]).line, message: `not valid YAML: ${e.message.split('\n')[0]}` };
    return;
  }
  let list: unknown = doc.contents;
  if (isMap(list)) list = list.get('hosts', true);
  if (!isSeq(list)) {
    yield { line: 1, message: 'expected a list of hosts (or a mapping with a "hosts" list)' };
    return;
  }
  const known = new Set<string>(fleet.INVENTORY_COLUMNS);
  const reported = new Set<string>();
  for (const item of list.items) {
    const offset = (item as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    const line = lines.linePos(offset).line;
    const fields = yamlFields((item as { toJSON?: () => unknown } | null)?.toJSON?.() ?? item);
    if (typeof fields === 'string') {
      yield { line, message: fields };
      continue;
    }
    for (const k of Object.keys(fields)) {
      if (!known.has(k) && !reported.has(k)) {
        reported.add(k);
        yield {
          line,
          message: `unknown column ${JSON.stringify(k)} ignored (known: ${[...known].join(', ')})`,
        };
      }
    }
    yield inventoryRow(fields, line);
  }
}

/**
 * A text file in decoded chunks of 1 MiB, opened at once (a FIFO, device or folder is refused
 * before it is opened, as readInputFile does) and read as it is consumed.
 */
export function openTextChunks(path: string, what: string): Iterable<string> {
  const fail = (why: string): never => {
    throw new UsageError(`cannot read ${what} '${path}': ${why}`);
  };
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    return fail(describeErrno(err));
  }
  if (!st.isFile()) fail(`it is ${describeFileType(st)}, not a regular file`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return fail(describeErrno(err));
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    fail('not a regular file');
  }
  function* chunks(): Generator<string> {
    const decoder = new TextDecoder('utf-8');
    const buf = Buffer.allocUnsafe(1 << 20);
    try {
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buf, 0, buf.length, null);
        } catch (err) {
          return fail(describeErrno(err));
        }
        if (n === 0) break;
        yield decoder.decode(buf.subarray(0, n), { stream: true });
      }
      const rest = decoder.decode();
      if (rest) yield rest;
    } finally {
      closeSync(fd);
    }
  }
  return chunks();
}

/** One turn of the event loop (messages from worker threads are handled in it). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Machine {
  input: MachineInput;
  label: string;
  id: string;
  signature: number;
}

/** Caches of one run: machines and images are read once, however many rows name them. */
export class InventoryReader {
  private readonly machines = new Map<string, Machine | string>();
  /** The same caches by the text of the row (before any path is resolved). */
  private readonly byRef = new Map<string, Machine | string>();
  private readonly imageByRef = new Map<string, InventoryImage | string>();
  private readonly images = new Map<string, Uint8Array | string>();

  /** The --firmware folder, for rows that name none (null: a synthetic image). */
  private readonly defaultFirmware: string | null;

  constructor(
    private readonly planner: FleetPlanner,
    defaultFirmware: string | undefined,
  ) {
    this.defaultFirmware = defaultFirmware === undefined ? null : resolve(defaultFirmware);
  }

  async read(path: string, fmt: 'csv' | 'yaml'): Promise<void> {
    // A CSV is read in chunks, row by row (memory holds a chunk, however many hosts); a YAML
    // document is parsed whole, so it is read whole (up to INVENTORY_MAX_BYTES).
    let source: Iterable<string> | string;
    try {
      source =
        fmt === 'csv'
          ? openTextChunks(path, 'inventory')
          : readInputText(path, { what: 'inventory', maxBytes: INVENTORY_MAX_BYTES });
    } catch (err) {
      this.planner.problem({ file: path, line: null }, err instanceof Error ? err.message : String(err));
      return;
    }
    const base = dirname(path);
    const take = async (row: RowOrProblem): Promise<void> => {
      if ('message' in row) {
        this.planner.problem({ file: path, line: row.line }, row.message);
        return;
      }
      // Machines are read once: after the first row that names one, no await per row.
      const m = this.byRef.get(`${base}\u0000${row.machine}`) ?? (await this.machine(row.machine, base));
      this.addRow(path, base, row, m);
    };
    let n = 0;
    const rows = typeof source === 'string' ? yamlRows(source) : inventoryCsvRows(fleet.csvSegments(source));
    for await (const row of rows) {
      await take(row);
      // Now and then, let the worker threads' answers in (they get their next jobs then).
      if (++n % 2000 === 0) await yieldToEventLoop();
    }
  }

  private async machine(ref: string, base: string) {
    const raw = `${base}\u0000${ref}`;
    const seen = this.byRef.get(raw);
    if (seen !== undefined) return seen;
    const preset = presetNames().includes(ref);
    const key = preset ? `preset:${ref}` : resolve(base, ref);
    let m = this.machines.get(key);
    if (m === undefined) {
      try {
        if (!preset && !/[./]/.test(ref))
          throw new UsageError(
            `unknown machine preset '${ref}' (known: ${presetNames().join(', ')}; or a .json/.yaml file)`,
          );
        const input = (await loadMachine(preset ? ref : key))!;
        const signature = resolveMachine(input).signature;
        m = { input, label: preset ? ref : basename(ref), id: key, signature };
      } catch (err) {
        if (!(err instanceof UsageError || err instanceof SimulationInputError)) throw err;
        m = err.message;
      }
      this.machines.set(key, m);
    }
    this.byRef.set(raw, m);
    return m;
  }

  private image(firmware: string | null, base: string, signature: number): InventoryImage | string {
    if (firmware === null) return { kind: 'synthetic' };
    const given = resolve(base, firmware);
    let st: Stats;
    try {
      st = statSync(given);
    } catch (err) {
      return `firmware '${firmware}': ${describeErrno(err)}`;
    }
    const path = st.isDirectory() ? join(given, format.fmsFileName(signature)) : given;
    let bytes = this.images.get(path);
    if (bytes === undefined) {
      try {
        bytes = readInputFile(path, { what: 'firmware file', maxBytes: MICROCODE_FILE_MAX_BYTES });
      } catch (err) {
        const code = (err as { code?: string }).code;
        bytes = st.isDirectory() && (code === 'ENOENT' || code === 'ENOTDIR') ? '' : (err as Error).message;
      }
      this.images.set(path, bytes);
    }
    if (bytes === '') return { kind: 'missing', path };
    if (typeof bytes === 'string') return bytes;
    return { kind: 'file', path, bytes };
  }

  private addRow(file: string, base: string, row: InventoryRow, m: Machine | string): void {
    const where = { file, line: row.line };
    if (typeof m === 'string') {
      this.planner.problem(where, `machine: ${m}`);
      return;
    }
    const firmware = row.firmware ?? this.defaultFirmware;
    const imageRef = `${firmware}\u0000${base}\u0000${m.signature}`;
    let image = this.imageByRef.get(imageRef);
    if (image === undefined) {
      image = this.image(firmware, row.firmware === null ? process.cwd() : base, m.signature);
      this.imageByRef.set(imageRef, image);
    }
    if (typeof image === 'string') {
      this.planner.problem(where, image);
      return;
    }
    const resolved: ResolvedRow = { label: m.label, machineId: m.id, machine: m.input, image };
    this.planner.addInventoryRow(row, file, resolved);
  }
}
