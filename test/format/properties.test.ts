import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildMicrocode,
  concatBlobs,
  decodeBcdDate,
  decodeSignature,
  encodeBcdDate,
  fmsFileName,
  parseFmsFileName,
  sanityCheck,
  scanFile,
  selectForLateLoad,
} from '../../src/format/index.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const isoDate = fc
  .record({
    year: fc.integer({ min: 1990, max: 2099 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
  })
  .map(({ year, month, day }) => `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`);

const buildOptions = fc.record({
  signature: u32,
  processorFlags: u32,
  revision: u32,
  date: isoDate,
  dataSize: fc.integer({ min: 1, max: 600 }).map((n) => n * 4),
  minRequiredRevision: u32,
  metadataSize: u32,
  extendedSignatures: fc.array(fc.record({ signature: u32, processorFlags: u32 }), { maxLength: 6 }),
  fill: u32,
});

describe('properties', () => {
  it('a built image parses back to what was built', () => {
    fc.assert(
      fc.property(buildOptions, (opts) => {
        const bytes = buildMicrocode(opts);
        const { blobs, error } = scanFile(bytes);
        expect(error).toBeUndefined();
        expect(blobs).toHaveLength(1);
        const [blob] = blobs;
        const extTable = opts.extendedSignatures.length ? 20 + 12 * opts.extendedSignatures.length : 0;
        expect(blob.header).toMatchObject({
          headerVersion: 1,
          loaderVersion: 1,
          signature: opts.signature,
          processorFlags: opts.processorFlags,
          revision: opts.revision,
          minRequiredRevision: opts.minRequiredRevision,
          metadataSize: opts.metadataSize,
          dataSize: opts.dataSize,
          totalSize: 48 + opts.dataSize + extTable,
        });
        expect(decodeBcdDate(blob.header.date)).toBe(opts.date);
        expect(
          blob.extendedSignatures.map(({ signature, processorFlags }) => ({ signature, processorFlags })),
        ).toEqual(opts.extendedSignatures);
        expect(blob.bytes).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('a file of built images parses to the same sequence', () => {
    fc.assert(
      fc.property(fc.array(buildOptions, { minLength: 1, maxLength: 5 }), (all) => {
        const images = all.map((o) => buildMicrocode(o));
        const { blobs, error } = scanFile(concatBlobs(...images));
        expect(error).toBeUndefined();
        expect(blobs.map((b) => b.header.revision)).toEqual(all.map((o) => o.revision));
        expect(blobs.map((b) => b.totalSize)).toEqual(images.map((i) => i.length));
      }),
      { numRuns: 100 },
    );
  });

  it('changing any one dword of an image gets it rejected', () => {
    fc.assert(
      fc.property(
        buildOptions,
        fc.nat(),
        u32.filter((x) => x !== 0),
        (opts, at, mask) => {
          const bytes = buildMicrocode(opts);
          const offset = (at % (bytes.length / 4)) * 4;
          const view = new DataView(bytes.buffer);
          view.setUint32(offset, view.getUint32(offset, true) ^ mask, true);
          expect(scanFile(bytes).error).toBeDefined();
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary bytes, and a clean scan tiles the whole file', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.nat(3), (raw, shift) => {
        const backing = new Uint8Array(raw.length + shift);
        backing.set(raw, shift);
        const bytes = backing.subarray(shift);
        const { blobs, error } = scanFile(bytes);
        if (!error) expect(blobs.reduce((n, b) => n + b.totalSize, 0)).toBe(bytes.length);
        sanityCheck(bytes);
        selectForLateLoad(bytes, { signature: 0, platformFlags: 0, revision: 0 });
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on plausible headers with hostile sizes and counts', () => {
    const hostile = fc.record({
      dataSize: fc.oneof(u32, fc.integer({ min: 0, max: 300 })),
      totalSize: fc.oneof(u32, fc.integer({ min: 0, max: 400 })),
      count: fc.oneof(u32, fc.integer({ min: 0, max: 30 })),
      length: fc.integer({ min: 0, max: 400 }),
      headerVersion: fc.constantFrom(1, 1, 2),
    });
    fc.assert(
      fc.property(hostile, (h) => {
        const bytes = new Uint8Array(h.length);
        const view = new DataView(bytes.buffer);
        const put = (at: number, value: number) => at + 4 <= bytes.length && view.setUint32(at, value, true);
        put(0, h.headerVersion);
        put(20, 1);
        put(28, h.dataSize);
        put(32, h.totalSize);
        put(48 + h.dataSize, h.count);
        scanFile(bytes);
        sanityCheck(bytes);
        selectForLateLoad(bytes, { signature: 0, platformFlags: 1, revision: 0 });
      }),
      { numRuns: 2000 },
    );
  });

  it('file names round-trip through signatures', () => {
    fc.assert(
      fc.property(u32, (sig) => {
        const name = fmsFileName(sig);
        const parsed = parseFmsFileName(name);
        expect(parsed).toBeDefined();
        expect(fmsFileName(parsed!.signature)).toBe(name);
        expect(decodeSignature(parsed!.signature)).toEqual(decodeSignature(sig));
      }),
    );
  });

  it('ISO dates round-trip through BCD', () => {
    fc.assert(
      fc.property(isoDate, (iso) => {
        expect(decodeBcdDate(encodeBcdDate(iso))).toBe(iso);
      }),
    );
  });
});
