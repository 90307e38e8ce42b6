import { hex } from '../format/hex.js';
// The register layout is the emulated device's own (the spec's section 4): the
// trace is read as the device sees its registers.
import {
  CONTROL_ABORT,
  CONTROL_GO,
  REG_CONTROL,
  REG_RDDATA,
  REG_STATUS,
  REG_WRDATA,
  REGISTER_SPAN,
  REQUEST_HEADER_DWORDS,
  STATUS_ERROR,
  STATUS_READY,
} from '../platform/mailbox/registers.js';
import type { MmioTraceEntry } from '../platform/mmio-trace.js';
import type { SimulationResult } from '../sim/result-types.js';

/**
 * Linux mmiotrace text output (Documentation/trace/mmiotrace.rst, format
 * version 20070824), one record per line, fields space-separated:
 *
 *   VERSION 20070824
 *   MARK  <sec.usec> <text>
 *   MAP   <sec.usec> <map id> 0x<phys> 0x<virt> 0x<len> 0x<pc> <pid>
 *   R|W   <width> <sec.usec> <map id> 0x<phys> 0x<value> 0x<pc> <pid>
 *   UNMAP <sec.usec> <map id> 0x<pc> <pid>
 *
 * The kernel prints PC and PID as 0 in all of these; so do we. Virtual
 * addresses are made up: a vmalloc/ioremap-area address per mapping.
 */
export const MMIOTRACE_VERSION = '20070824';
/** Start of the x86-64 vmalloc/ioremap area (4-level paging). */
export const IOREMAP_BASE = 0xffffc90000000000n;
/** readl()/writel(): every mailbox access is 4 bytes wide. */
const ACCESS_WIDTH = 4;
/** Beyond this many accesses the whole text would not fit in one JS string; stream instead. */
export const MAX_MMIOTRACE_STRING_ENTRIES = 8_000_000;

export function hasMmioTrace(result: SimulationResult): boolean {
  return result.mmio !== undefined;
}

/** The made-up kernel virtual address of mapping `mapId` for physical `pa` (page offset kept). */
export function ioremapVirt(mapId: number, pa: number): bigint {
  return IOREMAP_BASE + BigInt(mapId) * 0x1000n + BigInt(pa % 0x1000);
}

/**
 * The trace line by line, each ending in "\n", without building the whole
 * text: the CLI can write a 100-million-access trace incrementally.
 */
export function* mmiotraceLines(result: SimulationResult): Generator<string, void, undefined> {
  for (const block of mmiotraceChunks(result, 256)) {
    let start = 0;
    for (let nl = block.indexOf('\n'); nl !== -1; nl = block.indexOf('\n', start)) {
      yield block.slice(start, nl + 1);
      start = nl + 1;
    }
  }
}

/**
 * The trace in blocks of about `linesPerChunk` lines (each line ending in
 * "\n"): far fewer writes for the CLI than one per line.
 */
export function* mmiotraceChunks(
  result: SimulationResult,
  linesPerChunk = 1024,
): Generator<string, void, undefined> {
  const header = `VERSION ${MMIOTRACE_VERSION}\n`;
  const rec = result.mmio;
  if (!rec) {
    yield header;
    yield `MARK ${timestamp(result.reload.startNs)} no MMIO accesses recorded (simulate with mmioTrace: true)\n`;
    return;
  }
  const packageOfMailbox = new Map<number, number>();
  for (const d of result.devices) packageOfMailbox.set(d.mailboxPa, d.package);

  // Consecutive accesses are 100 ns apart, so timestamps and register
  // addresses repeat: cache their text.
  let lastUs = -1;
  let lastTs = '';
  const paText = new Map<number, string>();
  const hexPa = (pa: number): string => {
    let s = paText.get(pa);
    if (s === undefined) {
      s = hex(pa);
      paText.set(pa, s);
    }
    return s;
  };

  let block: string[] = [header];
  for (let i = 0; i < rec.length; i++) {
    if (block.length >= linesPerChunk) {
      yield block.join('');
      block = [];
    }
    const e = rec.entry(i);
    const us = Math.floor(Math.max(0, e.timeNs) / 1000);
    if (us !== lastUs) {
      lastUs = us;
      lastTs = usTimestamp(us);
    }
    switch (e.kind) {
      case 'W':
      case 'R':
        block.push(`${e.kind} ${ACCESS_WIDTH} ${lastTs} ${e.mapId} ${hexPa(e.pa)} ${hex(e.value)} 0x0 0\n`);
        break;
      case 'MAP': {
        const pkg = packageOfMailbox.get(e.pa);
        if (pkg !== undefined) block.push(`MARK ${lastTs} ioremap staging mailbox of package ${pkg}\n`);
        const virt = hex(ioremapVirt(e.mapId, e.pa));
        block.push(`MAP ${lastTs} ${e.mapId} ${hexPa(e.pa)} ${virt} ${hex(e.value)} 0x0 0\n`);
        break;
      }
      case 'UNMAP':
        block.push(`UNMAP ${lastTs} ${e.mapId} 0x0 0\n`);
        break;
    }
  }
  if (block.length > 0) yield block.join('');
}

/** The whole trace as one string (use mmiotraceChunks() for very large traces). */
export function toMmiotrace(result: SimulationResult): string {
  const n = result.mmio?.length ?? 0;
  if (n > MAX_MMIOTRACE_STRING_ENTRIES) {
    throw new RangeError(
      `mmiotrace of ${n} accesses is too large for one string; write mmiotraceChunks(result) incrementally`,
    );
  }
  const parts: string[] = [];
  for (const chunk of mmiotraceChunks(result)) parts.push(chunk);
  return parts.join('');
}

function timestamp(ns: number): string {
  return usTimestamp(Math.floor(Math.max(0, ns) / 1000));
}

/** `%u.%06lu`: seconds, then microseconds zero-padded to six digits. */
function usTimestamp(us: number): string {
  const sec = Math.floor(us / 1_000_000);
  const usec = us - sec * 1_000_000;
  return `${sec}.${String(usec).padStart(6, '0')}`;
}

export class MmiotraceParseError extends Error {
  override name = 'MmiotraceParseError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`mmiotrace line ${line}: ${message}`);
  }
}

/**
 * Parse mmiotrace text back into accesses (R, W, MAP, UNMAP). VERSION, MARK,
 * PCIDEV, LSPCI and UNKNOWN records are skipped; times have the format's
 * microsecond resolution. MAP's `value` is the mapping length, UNMAP's `pa`
 * the mapped physical address (from its MAP).
 */
export function parseMmiotrace(text: string): MmioTraceEntry[] {
  const out: MmioTraceEntry[] = [];
  const mapped = new Map<number, number>();
  let lineNo = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line === '') continue;
    const f = line.split(' ');
    switch (f[0]) {
      case 'R':
      case 'W': {
        if (f.length !== 8) throw new MmiotraceParseError(lineNo, `${f[0]} needs 8 fields, got ${f.length}`);
        out.push({
          kind: f[0],
          timeNs: parseTime(f[2]!, lineNo),
          mapId: parseDec(f[3]!, lineNo),
          pa: parseHex(f[4]!, lineNo),
          value: parseHex(f[5]!, lineNo),
        });
        break;
      }
      case 'MAP': {
        if (f.length !== 8) throw new MmiotraceParseError(lineNo, `MAP needs 8 fields, got ${f.length}`);
        const mapId = parseDec(f[2]!, lineNo);
        const pa = parseHex(f[3]!, lineNo);
        mapped.set(mapId, pa);
        out.push({
          kind: 'MAP',
          timeNs: parseTime(f[1]!, lineNo),
          mapId,
          pa,
          value: parseHex(f[5]!, lineNo),
        });
        break;
      }
      case 'UNMAP': {
        if (f.length !== 5) throw new MmiotraceParseError(lineNo, `UNMAP needs 5 fields, got ${f.length}`);
        const mapId = parseDec(f[2]!, lineNo);
        out.push({
          kind: 'UNMAP',
          timeNs: parseTime(f[1]!, lineNo),
          mapId,
          pa: mapped.get(mapId) ?? 0,
          value: 0,
        });
        break;
      }
      case 'VERSION':
        if (f[1] !== MMIOTRACE_VERSION) throw new MmiotraceParseError(lineNo, `unsupported version ${f[1]}`);
        break;
      case 'MARK':
      case 'PCIDEV':
      case 'LSPCI':
      case 'UNKNOWN':
        break;
      default:
        throw new MmiotraceParseError(lineNo, `unknown record '${f[0]}'`);
    }
  }
  return out;
}

function parseTime(s: string, line: number): number {
  const dot = s.indexOf('.');
  if (dot < 1 || s.length - dot - 1 !== 6) throw new MmiotraceParseError(line, `bad timestamp '${s}'`);
  const sec = parseDec(s.slice(0, dot), line);
  const usec = parseDec(s.slice(dot + 1), line);
  return sec * 1e9 + usec * 1e3;
}

function parseDec(s: string, line: number): number {
  if (s.length === 0 || s.length > 15) throw new MmiotraceParseError(line, `bad number '${s}'`);
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new MmiotraceParseError(line, `bad number '${s}'`);
    v = v * 10 + d;
  }
  return v;
}

function parseHex(s: string, line: number): number {
  // Number() accepts exactly "0x" followed by hex digits here (no sign, no spaces: split on ' ').
  const v = s.length > 2 && s.charCodeAt(0) === 48 && s.charCodeAt(1) === 120 ? Number(s) : Number.NaN;
  if (!Number.isSafeInteger(v)) throw new MmiotraceParseError(line, `bad hex number '${s}'`);
  return v;
}

/** The "next offset" of the response that ends the image. */
export { END_OF_IMAGE as MAILBOX_END_OFFSET } from '../platform/mailbox/registers.js';

/** One request/response exchange with a staging mailbox, rebuilt from its MMIO accesses. */
export interface MailboxTransaction {
  mapId: number;
  /** Physical address of the mailbox (the mapping's base). */
  mailboxPa: number;
  /** Zero-based position within its mapping (one mapping = one staging pass). */
  index: number;
  startNs: number;
  /** Time of the GO write; NaN if GO was never written. */
  goNs: number;
  endNs: number;
  /** Request header dwords as written: low is 0x8086 | 0xb << 16, high the request size in dwords. */
  headerLow: number;
  headerHigh: number;
  /** Command dword (0x3 = LOAD). */
  command: number;
  /** Chunk bytes carried (request dwords after the two headers, times 4). */
  chunkBytes: number;
  /** Sum of the chunk's dwords modulo 2^32, to compare content across traces. */
  dataSum: number;
  /**
   * Image offset the host sent: 0 for the first transaction after ABORT,
   * otherwise the next offset of the previous response.
   */
  offset: number;
  /** STATUS reads between GO and the response. */
  polls: number;
  /** Last STATUS value read (null if none). */
  status: number | null;
  ready: boolean;
  error: boolean;
  /** Dwords read from RDDATA, in order (header low, header high, next offset, status). */
  response: number[];
  /** Zero writes to RDDATA acknowledging a response dword. */
  acks: number;
  /** response[2] when a full response was read. */
  nextOffset: number | null;
  responseStatus: number | null;
}

interface MappingState {
  pa: number;
  index: number;
  nextOffset: number;
  current: MailboxTransaction | null;
  /** Request dwords written so far in the current transaction. */
  written: number;
}

/**
 * Group accesses into mailbox transactions: a transaction starts at the first
 * WRDATA write after a GO, an ABORT or the mapping, and collects the request
 * dwords, the GO, the STATUS polls and the acknowledged response reads.
 * Accesses through mappings that were never MAPped are grouped by map id with
 * the mapping base taken as the access address rounded down to the register span (16 bytes).
 */
export function mailboxTransactions(entries: Iterable<MmioTraceEntry>): MailboxTransaction[] {
  const out: MailboxTransaction[] = [];
  const maps = new Map<number, MappingState>();
  const finish = (m: MappingState): void => {
    if (m.current) {
      out.push(m.current);
      m.current = null;
    }
  };
  const mapping = (mapId: number, pa: number): MappingState => {
    let m = maps.get(mapId);
    if (!m) {
      m = { pa: pa - (pa % REGISTER_SPAN), index: 0, nextOffset: 0, current: null, written: 0 };
      maps.set(mapId, m);
    }
    return m;
  };

  for (const e of entries) {
    if (e.kind === 'MAP') {
      maps.set(e.mapId, { pa: e.pa, index: 0, nextOffset: 0, current: null, written: 0 });
      continue;
    }
    const m = mapping(e.mapId, e.pa);
    if (e.kind === 'UNMAP') {
      finish(m);
      maps.delete(e.mapId);
      continue;
    }
    const reg = e.pa - m.pa;
    if (e.kind === 'W') {
      if (reg === REG_WRDATA) {
        let t = m.current;
        if (t === null || !Number.isNaN(t.goNs)) {
          finish(m);
          t = newTransaction(e, m);
          m.current = t;
          m.written = 0;
        }
        writeRequestDword(t, m, e.value);
        t.endNs = e.timeNs;
      } else if (reg === REG_CONTROL) {
        if (e.value & CONTROL_ABORT) {
          // ABORT resets the device: the next request starts the image again.
          finish(m);
          m.nextOffset = 0;
        } else if ((e.value & CONTROL_GO) >>> 0 === CONTROL_GO && m.current) {
          m.current.goNs = e.timeNs;
          m.current.endNs = e.timeNs;
        }
      } else if (reg === REG_RDDATA && m.current) {
        m.current.acks++;
        m.current.endNs = e.timeNs;
      }
    } else if (m.current) {
      const t = m.current;
      if (reg === REG_STATUS) {
        t.polls++;
        t.status = e.value;
        t.ready = (e.value & STATUS_READY) >>> 0 === STATUS_READY;
        t.error = (e.value & STATUS_ERROR) !== 0;
      } else if (reg === REG_RDDATA) {
        t.response.push(e.value);
        if (t.response.length === 3) {
          t.nextOffset = e.value;
          m.nextOffset = e.value;
        } else if (t.response.length === 4) {
          t.responseStatus = e.value;
        }
      }
      t.endNs = e.timeNs;
    }
  }
  for (const m of maps.values()) finish(m);
  return out;
}

function newTransaction(e: MmioTraceEntry, m: MappingState): MailboxTransaction {
  return {
    mapId: e.mapId,
    mailboxPa: m.pa,
    index: m.index++,
    startNs: e.timeNs,
    goNs: Number.NaN,
    endNs: e.timeNs,
    headerLow: 0,
    headerHigh: 0,
    command: 0,
    chunkBytes: 0,
    dataSum: 0,
    offset: m.nextOffset,
    polls: 0,
    status: null,
    ready: false,
    error: false,
    response: [],
    acks: 0,
    nextOffset: null,
    responseStatus: null,
  };
}

/** Request dwords arrive in order: header low, header high, command, 0, then data. */
function writeRequestDword(t: MailboxTransaction, m: MappingState, value: number): void {
  const i = m.written++;
  if (i === 0) t.headerLow = value;
  else if (i === 1) t.headerHigh = value;
  else if (i === 2) t.command = value;
  else if (i >= REQUEST_HEADER_DWORDS) {
    t.chunkBytes += 4;
    t.dataSum = (t.dataSum + value) >>> 0;
  }
}
