import { describe, expect, it } from 'vitest';
import {
  IOREMAP_BASE,
  MAILBOX_END_OFFSET,
  type MailboxTransaction,
  MmiotraceParseError,
  mailboxTransactions,
  mmiotraceChunks,
  mmiotraceLines,
  parseMmiotrace,
  toMmiotrace,
} from '../../src/output/mmiotrace.js';
import type { MmioTraceEntry } from '../../src/platform/mmio-trace.js';
import type { SimulationResult } from '../../src/sim/result-types.js';
import { simulate } from '../../src/sim/simulate.js';
import { run, type ScenarioName } from './fixtures.js';

const STAGING_SCENARIOS: ScenarioName[] = [
  'gnr-2s',
  'up',
  'never-ready at transaction 3',
  'limited cache, verify pass',
  'rerequest forever on package 1',
];

const MBOX_HEADER_LOW = 0x8086 | (0xb << 16);
const PAGE = 4096;

const parsedCache = new Map<ScenarioName, MmioTraceEntry[]>();
/** The scenario's trace written as mmiotrace text and parsed back (once per scenario). */
function parsedBack(name: ScenarioName): MmioTraceEntry[] {
  let p = parsedCache.get(name);
  if (!p) {
    p = parseMmiotrace(toMmiotrace(run(name)));
    parsedCache.set(name, p);
  }
  return p;
}

function byMapping(tx: readonly MailboxTransaction[]): MailboxTransaction[][] {
  const groups = new Map<number, MailboxTransaction[]>();
  for (const t of tx) {
    const g = groups.get(t.mapId) ?? [];
    g.push(t);
    groups.set(t.mapId, g);
  }
  return [...groups.keys()].sort((a, b) => a - b).map((k) => groups.get(k)!);
}

/** The transaction spans of one staging pass (the driver's own record of offsets and sizes). */
function passSpans(result: SimulationResult, pass: number) {
  const p = result.staging.packages[pass]!;
  return result.trace.spans.filter(
    (s) => s.cat === 'transaction' && s.cpu === p.cpu && s.startNs >= p.startNs && s.endNs <= p.endNs,
  );
}

describe('toMmiotrace', () => {
  it('writes the 20070824 format: VERSION, MAP, R/W with width, UNMAP with PC and PID', () => {
    const result = run('up');
    const text = toMmiotrace(result);
    const lines = text.split('\n');
    expect(lines[0]).toBe('VERSION 20070824');
    expect(lines.at(-1)).toBe('');
    const ts = String.raw`\d+\.\d{6}`;
    const patterns: Record<string, RegExp> = {
      MARK: new RegExp(`^MARK ${ts} .+$`),
      MAP: new RegExp(`^MAP ${ts} \\d+ 0x[0-9a-f]+ 0xffffc9[0-9a-f]{10} 0x10 0x0 0$`),
      R: new RegExp(`^R 4 ${ts} \\d+ 0x[0-9a-f]+ 0x[0-9a-f]+ 0x0 0$`),
      W: new RegExp(`^W 4 ${ts} \\d+ 0x[0-9a-f]+ 0x[0-9a-f]+ 0x0 0$`),
      UNMAP: new RegExp(`^UNMAP ${ts} \\d+ 0x0 0$`),
    };
    const seen = new Set<string>();
    const bad: string[] = [];
    for (const line of lines.slice(1, -1)) {
      const kind = line.split(' ')[0]!;
      seen.add(kind);
      if (!patterns[kind]?.test(line)) bad.push(line);
    }
    expect(bad.slice(0, 5)).toEqual([]);
    expect([...seen].sort()).toEqual(['MAP', 'MARK', 'R', 'UNMAP', 'W']);

    const map = lines.find((l) => l.startsWith('MAP '))!.split(' ');
    const pa = result.staging.packages[0]!.mailboxPa;
    expect(map[3]).toBe(`0x${pa.toString(16)}`);
    expect(BigInt(map[4]!)).toBe(IOREMAP_BASE + BigInt(map[2]!) * 0x1000n + BigInt(pa % 0x1000));
    // The timestamp is the access's virtual time, truncated to microseconds.
    const first = result.mmio!.entry(0);
    const sec = Math.floor(first.timeNs / 1e9);
    expect(map[1]).toBe(`${sec}.${String(Math.floor((first.timeNs - sec * 1e9) / 1000)).padStart(6, '0')}`);
  });

  it('streams the same text line by line and in blocks', () => {
    const result = run('never-ready at transaction 3');
    const whole = toMmiotrace(result);
    const lines = [...mmiotraceLines(result)];
    expect(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1)).toBe(true);
    expect(lines.join('')).toBe(whole);
    expect([...mmiotraceChunks(result, 100)].join('')).toBe(whole);
  });

  it('writes a header and a note when no MMIO was recorded', () => {
    const result = simulate({ machine: 'up' });
    expect(result.mmio).toBeUndefined();
    const text = toMmiotrace(result);
    expect(text).toMatch(/^VERSION 20070824\nMARK \d+\.\d{6} no MMIO accesses recorded/);
    expect(parseMmiotrace(text)).toEqual([]);
  });

  it('handles a 1.6 MB image on two packages (~850k lines)', () => {
    const result = run('gnr-2s');
    const text = toMmiotrace(result);
    let lines = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
    expect(result.image!.totalSize).toBeGreaterThan(1_600_000);
    expect(lines).toBeGreaterThan(800_000);
    expect(lines).toBe(result.mmio!.length + 1 + result.staging.packages.length);
  });
});

describe('parseMmiotrace', () => {
  it.each(STAGING_SCENARIOS)('reads back every access (times to the microsecond): %s', (name) => {
    const result = run(name);
    const parsed = parsedBack(name);
    const rec = result.mmio!;
    expect(parsed.length).toBe(rec.length);
    const mismatches: string[] = [];
    for (let i = 0; i < rec.length && mismatches.length < 5; i++) {
      const e = rec.entry(i);
      const p = parsed[i]!;
      const same =
        p.kind === e.kind &&
        p.pa === e.pa &&
        p.mapId === e.mapId &&
        (e.kind === 'UNMAP' || p.value === e.value) &&
        p.timeNs === Math.floor(e.timeNs / 1000) * 1000;
      if (!same) mismatches.push(`entry ${i}: ${JSON.stringify(p)} != ${JSON.stringify(e)}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('rejects malformed lines with their line number', () => {
    expect(() => parseMmiotrace('VERSION 20070824\nW 4 1.000000 1 0xfed20000\n')).toThrow(
      MmiotraceParseError,
    );
    expect(() => parseMmiotrace('VERSION 20070824\nW 4 1.000000 1 0xfed20000\n')).toThrow(/line 2/);
    expect(() => parseMmiotrace('VERSION 20070824\nR 4 1.5 1 0x0 0x0 0x0 0\n')).toThrow(/bad timestamp/);
    expect(() => parseMmiotrace('VERSION 20070824\nR 4 1.000000 x 0x0 0x0 0x0 0\n')).toThrow(/bad number/);
    expect(() => parseMmiotrace('VERSION 20070824\nR 4 1.000000 1 fed 0x0 0x0 0\n')).toThrow(/bad hex/);
    expect(() => parseMmiotrace('VERSION 20070101\n')).toThrow(/unsupported version/);
    expect(() => parseMmiotrace('BOGUS 1\n')).toThrow(/unknown record/);
  });

  it('skips marks, PCI device lines and blank lines', () => {
    const text = [
      'VERSION 20070824',
      'PCIDEV 0000 80861234 0',
      'MARK 1.000000 hello world',
      '',
      'MAP 1.000000 1 0x1000 0xffffc90000001000 0x10 0x0 0',
      'W 4 1.000001 1 0x1000 0x1 0x0 0',
      'UNMAP 1.000002 1 0x0 0',
    ].join('\n');
    expect(parseMmiotrace(text)).toEqual([
      { kind: 'MAP', timeNs: 1e9, mapId: 1, pa: 0x1000, value: 0x10 },
      { kind: 'W', timeNs: 1e9 + 1000, mapId: 1, pa: 0x1000, value: 1 },
      { kind: 'UNMAP', timeNs: 1e9 + 2000, mapId: 1, pa: 0x1000, value: 0 },
    ]);
  });
});

describe('mailboxTransactions', () => {
  it.each(STAGING_SCENARIOS)('the mmiotrace parses back to the staging records: %s', (name) => {
    const result = run(name);
    const fromText = mailboxTransactions(parsedBack(name));
    const fromRecorder = mailboxTransactions(result.mmio!.entries());
    // Same transactions whichever way they are read, except for time resolution.
    const untimed = (t: MailboxTransaction) => ({ ...t, startNs: 0, goNs: 0, endNs: 0 });
    expect(fromText.map(untimed)).toEqual(fromRecorder.map(untimed));

    const passes = byMapping(fromText);
    expect(passes.length).toBe(result.staging.packages.length);
    const imageLen = result.image!.totalSize;
    passes.forEach((tx, i) => {
      const pass = result.staging.packages[i]!;
      expect(tx.every((t) => t.mailboxPa === pass.mailboxPa)).toBe(true);
      expect(tx.length).toBe(pass.chunks);
      expect(tx.reduce((n, t) => n + t.chunkBytes, 0)).toBe(pass.bytesSent);
      expect(tx.reduce((n, t) => n + t.polls, 0)).toBe(pass.polls);
      const sent = new Set<number>();
      let resends = 0;
      for (const t of tx) {
        if (sent.has(t.offset)) resends++;
        sent.add(t.offset);
      }
      expect(resends).toBe(pass.resends);

      // Offsets and chunk sizes, transaction by transaction, as the driver recorded them.
      const spans = passSpans(result, i);
      expect(tx.map((t) => [t.offset, t.chunkBytes])).toEqual(
        spans.map((s) => [s.args!.offset, s.args!.bytes]),
      );

      for (const t of tx) {
        expect(t.headerLow).toBe(MBOX_HEADER_LOW);
        expect(t.headerHigh).toBe((16 + t.chunkBytes) / 4);
        expect(t.command).toBe(3);
        expect(t.chunkBytes).toBe(Math.min(PAGE, imageLen - t.offset));
        expect(Number.isNaN(t.goNs)).toBe(false);
        expect(t.polls).toBeGreaterThan(0);
      }
      const last = tx.at(-1)!;
      if (pass.errno === 0) {
        expect(last.nextOffset).toBe(MAILBOX_END_OFFSET);
        for (const t of tx) {
          expect(t.ready).toBe(true);
          expect(t.response.length).toBe(4);
          expect(t.acks).toBe(4);
          expect([t.response[0], t.response[1]]).toEqual([MBOX_HEADER_LOW, 4]);
        }
      }
    });
  });

  it('sees the first pass re-send the whole image on a limited cache with a verify pass', () => {
    const result = run('limited cache, verify pass');
    const [first] = byMapping(mailboxTransactions(result.mmio!.entries()));
    const imageChunks = Math.ceil(result.image!.totalSize / PAGE);
    expect(first!.length).toBe(2 * imageChunks);
    expect(first!.slice(imageChunks).map((t) => t.offset)).toEqual(
      first!.slice(0, imageChunks).map((t) => t.offset),
    );
  });

  it('shows a timed-out transaction: 10,000 polls, never READY, no response read', () => {
    const result = run('never-ready at transaction 3');
    const tx = mailboxTransactions(result.mmio!.entries());
    expect(tx.length).toBe(4);
    const last = tx.at(-1)!;
    expect(last.polls).toBe(10_000);
    expect(last.ready).toBe(false);
    expect(last.response).toEqual([]);
    expect(last.offset).toBe(3 * PAGE);
  });
});

describe('toMmiotrace limits', () => {
  it('asks for streaming when the text would not fit in one string', () => {
    const base = run('up');
    const huge = { ...base } as SimulationResult;
    Object.defineProperty(huge, 'mmio', { value: { length: 9_000_000 }, enumerable: false });
    expect(() => toMmiotrace(huge)).toThrow(/mmiotraceChunks/);
  });
});
