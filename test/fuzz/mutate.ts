import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildMicrocode, concatBlobs } from '../../src/format/index.js';
import { Rng } from '../../src/platform/rng.js';
import { reseal } from './oracle.js';

/** Cases for the whole fuzz run (split across the fuzz tests): 200,000 in CI, 1,000,000 for `npm run fuzz`. */
export const FUZZ_CASES = Number(process.env.FUZZ_CASES ?? 200_000);
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_251_111);

export interface CorpusFile {
  name: string;
  bytes: Uint8Array;
}

/** The real Intel files, read into memory (never copied anywhere); empty without UCODE_FIRMWARE_DIR. */
export function realCorpus(dir: string | undefined): CorpusFile[] {
  if (!dir) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, path: join(dir, name) }))
    .filter(({ path }) => statSync(path).isFile())
    .map(({ name, path }) => ({ name, bytes: new Uint8Array(readFileSync(path)) }));
}

/** Valid synthetic files with the shapes real ones have: legacy, extended tables, several blobs. */
export function syntheticCorpus(): CorpusFile[] {
  const a = buildMicrocode({
    signature: 0xa06d1,
    revision: 0x10003a2,
    dataSize: 1024,
    minRequiredRevision: 1,
    processorFlags: 0x95,
  });
  const b = buildMicrocode({
    signature: 0x806f8,
    revision: 0x2c000390,
    dataSize: 2000,
    processorFlags: 0x87,
    extendedSignatures: [
      { signature: 0x806f7, processorFlags: 0x87 },
      { signature: 0x806f6, processorFlags: 0x87 },
    ],
  });
  const legacy = buildMicrocode({
    signature: 0x633,
    revision: 0x10,
    legacyZeroDataSize: true,
    dataSize: 2000,
  });
  const one = buildMicrocode({
    signature: 0x906a3,
    revision: 0x42,
    dataSize: 4,
    extendedSignatures: [{ signature: 1, processorFlags: 2 }],
  });
  return [
    { name: 'synthetic-plain', bytes: a },
    { name: 'synthetic-ext', bytes: b },
    { name: 'synthetic-legacy', bytes: legacy },
    { name: 'synthetic-small-ext', bytes: one },
    { name: 'synthetic-multi', bytes: concatBlobs(a, b, legacy) },
  ];
}

function u32(bytes: Uint8Array, at: number): number {
  return at + 4 <= bytes.length ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true) : 0;
}

/** Byte offsets where a check changes its mind: blob, header, data and table edges. */
export function boundaries(file: Uint8Array): number[] {
  const out = new Set<number>([0, file.length]);
  let off = 0;
  for (let guard = 0; off + 48 <= file.length && guard < 64; guard++) {
    const dataField = u32(file, off + 28);
    const data = dataField || 2000;
    const total = dataField ? u32(file, off + 32) : 2048;
    for (const b of [
      off,
      off + 4,
      off + 28,
      off + 32,
      off + 36,
      off + 48,
      off + 48 + data,
      off + 48 + data + 20,
      off + 48 + data + 32,
      off + total,
    ]) {
      if (b >= 0 && b <= file.length) out.add(b);
    }
    if (total < 48) break;
    off += total;
  }
  return [...out];
}

/** Blobs (walked like the kernel, whatever their checksums) that have an extended table of 20 bytes or more. */
function extTables(file: Uint8Array): { blob: number; table: number }[] {
  const out: { blob: number; table: number }[] = [];
  let off = 0;
  for (let guard = 0; off + 48 <= file.length && guard < 64; guard++) {
    const dataField = u32(file, off + 28);
    const data = dataField || 2000;
    const total = dataField ? u32(file, off + 32) : 2048;
    if (total < 48 || off + total > file.length) break;
    if (total >= 48 + data + 20) out.push({ blob: off, table: off + 48 + data });
    off += total;
  }
  return out;
}

/** Values that sit on the edges of the size arithmetic. */
function interesting(rng: Rng, file: Uint8Array, at: number): number {
  const remaining = file.length - Math.min(at, file.length);
  const dataField = u32(file, 28);
  const choices = [
    0,
    1,
    2,
    3,
    4,
    20,
    32,
    44,
    47,
    48,
    49,
    52,
    2000,
    2048,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffc,
    0xffff_ffff,
    file.length,
    file.length + 4,
    remaining,
    remaining - 48,
    remaining + 1,
    dataField + 48,
    dataField + 68,
    dataField + 80,
    // count * 12 + 20 wraps 32 bits for these counts; the value there plus
    // k * 2^30 keeps the wrapped table size (the kernel then walks past the table)
    0x1555_5556,
    0x4000_0000,
    0x4000_0001,
    0x8000_0002,
    0xc000_0001,
    u32(file, at) + 0x4000_0000,
    u32(file, at) + 0xc000_0000,
    // data sizes the kernel's int makes negative: 48 + size wraps to 0..47 from 0xffffffd0
    0xffff_ffd0,
    0xffff_ffec,
    0xffff_fff0,
    rng.nextU32(),
  ];
  return rng.pick(choices) >>> 0;
}

const HEADER_FIELDS = [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44];

/**
 * One mutant of `base`: 1-3 mutations (bit flips, header and table fields set to
 * edge values, truncation at and around every boundary, growth, splices), then
 * maybe its checksums sealed again so the checks behind them are reached too.
 */
export function mutate(base: Uint8Array, rng: Rng, donor?: Uint8Array): Uint8Array {
  let file: Uint8Array = base.slice();
  const n = rng.int(1, 3);
  for (let k = 0; k < n; k++) {
    const bounds = boundaries(file);
    const view = () => new DataView(file.buffer, file.byteOffset, file.byteLength);
    switch (rng.int(0, 10)) {
      case 0: {
        // Bit flip, mostly near a boundary (headers, tables).
        if (file.length === 0) break;
        const near = rng.chance(0.7) ? rng.pick(bounds) + rng.int(-8, 56) : rng.int(0, file.length - 1);
        const at = Math.min(file.length - 1, Math.max(0, near));
        file[at]! ^= 1 << rng.int(0, 7);
        break;
      }
      case 1:
      case 2: {
        // A header field of some blob set to an edge value.
        const blobStarts = bounds.filter((b) => b + 48 <= file.length);
        if (blobStarts.length === 0) break;
        const at = rng.pick(blobStarts) + rng.pick(HEADER_FIELDS);
        if (at + 4 <= file.length) view().setUint32(at, interesting(rng, file, at), true);
        break;
      }
      case 3: {
        // An extended-table field (count, checksum, entries) set to an edge value.
        const at = rng.pick(bounds) + rng.pick([0, 4, 20, 24, 28]);
        if (at + 4 <= file.length) view().setUint32(at, interesting(rng, file, at), true);
        break;
      }
      case 4:
      case 5: {
        // Truncate at or around a boundary.
        const cut = Math.max(
          0,
          Math.min(file.length, rng.pick(bounds) + rng.pick([0, 0, -1, 1, -2, -3, -4, 4, -48, 12, -12])),
        );
        file = file.slice(0, cut);
        break;
      }
      case 6: {
        // Grow: zeros, random bytes, or a whole other blob.
        const extra =
          donor && rng.chance(0.5)
            ? donor.subarray(0, Math.min(donor.length, rng.int(1, 8192)))
            : Uint8Array.from({ length: rng.int(1, 64) }, () => (rng.chance(0.5) ? 0 : rng.int(0, 255)));
        const grown = new Uint8Array(file.length + extra.length);
        grown.set(file);
        grown.set(extra, file.length);
        file = grown;
        break;
      }
      case 7: {
        // Delete or duplicate a range (shifts everything behind it).
        if (file.length < 2) break;
        const from = rng.int(0, file.length - 1);
        const len = Math.min(file.length - from, rng.int(1, rng.chance(0.5) ? 16 : 4096));
        file = rng.chance(0.5)
          ? concatBlobs(file.subarray(0, from), file.subarray(from + len))
          : concatBlobs(file.subarray(0, from + len), file.subarray(from));
        break;
      }
      case 8: {
        // Overwrite a run of bytes with random data.
        if (file.length === 0) break;
        const from = rng.int(0, file.length - 1);
        const len = Math.min(file.length - from, rng.int(1, 64));
        for (let i = 0; i < len; i++) file[from + i] = rng.int(0, 255);
        break;
      }
      case 10: {
        // An extended count moved by k * 2^30: the table size the kernel computes (32 bits)
        // stays right, so with the checksums sealed its walk runs past the table.
        const tables = extTables(file);
        if (tables.length === 0) break;
        const { blob, table } = rng.pick(tables);
        view().setUint32(table, (u32(file, table) + rng.int(1, 3) * 0x4000_0000) >>> 0, true);
        if (rng.chance(0.8)) reseal(file, blob);
        break;
      }
      default: {
        // Zero or make huge the size fields together (legacy rule, overflow).
        const starts = bounds.filter((b) => b + 48 <= file.length);
        if (starts.length === 0) break;
        const at = rng.pick(starts);
        const data = rng.pick([0, 4, 2000, 0xffff_fffc, 0xffff_ffd0, rng.nextU32() & ~3]);
        view().setUint32(at + 28, data >>> 0, true);
        view().setUint32(
          at + 32,
          rng.pick([0, (data + 48) >>> 0, (data + 68) >>> 0, (data + 80) >>> 0, 0xffff_ffff]),
          true,
        );
        break;
      }
    }
  }
  if (rng.chance(0.5)) {
    for (const b of boundaries(file)) if (rng.chance(0.7)) reseal(file, b);
    if (rng.chance(0.2)) shiftMainChecksum(file, rng);
  }
  return file;
}

/**
 * Move the header checksum by d and the reserved dword by -d: the data checksum
 * still holds, but extended entries no longer match the header (the last check).
 */
function shiftMainChecksum(file: Uint8Array, rng: Rng): void {
  if (file.length < 48) return;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const d = rng.int(1, 0xffff);
  view.setUint32(16, (view.getUint32(16, true) + d) >>> 0, true);
  view.setUint32(44, (view.getUint32(44, true) - d) >>> 0, true);
}

/** Shrink a failing input while `fails` still holds: cut the tail, then drop and zero ranges. */
export function minimize(input: Uint8Array, fails: (bytes: Uint8Array) => boolean): Uint8Array {
  let best: Uint8Array = input;
  let progress = true;
  while (progress) {
    progress = false;
    const smallest = best.length <= 4096 ? 1 : best.length >> 8;
    for (let chunk = best.length >> 1; chunk >= Math.max(1, smallest); chunk >>= 1) {
      for (let from = 0; from + chunk <= best.length; from += chunk) {
        const candidate = concatBlobs(best.subarray(0, from), best.subarray(from + chunk));
        if (fails(candidate)) {
          best = candidate;
          progress = true;
          from -= chunk;
        }
      }
    }
    for (let i = 0; i < best.length && best.length <= 4096; i++) {
      if (best[i] === 0) continue;
      const candidate = best.slice();
      candidate[i] = 0;
      if (fails(candidate)) {
        best = candidate;
        progress = true;
      }
    }
  }
  return best;
}

export { Rng };
