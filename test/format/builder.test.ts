import { describe, expect, it } from 'vitest';
import {
  buildMicrocode,
  checkBlob,
  concatBlobs,
  decodeBcdDate,
  fixChecksums,
  flipDword,
  sanityCheck,
  setDword,
  truncate,
  withHeaderField,
} from '../../src/format/index.js';
import { dword, image, SIG } from './fixtures.js';

describe('buildMicrocode', () => {
  it('writes every header field and sensible defaults', () => {
    const blob = checkBlob(
      image({ revision: 0x2c000410, minRequiredRevision: 0x2c0001d0, metadataSize: 20 }),
      0,
      0,
    );
    expect(blob.header).toEqual({
      headerVersion: 1,
      revision: 0x2c000410,
      date: 0x01012025,
      signature: SIG,
      checksum: expect.any(Number),
      loaderVersion: 1,
      processorFlags: 0xff,
      dataSize: 64,
      totalSize: 112,
      metadataSize: 20,
      minRequiredRevision: 0x2c0001d0,
      reserved: 0,
    });
  });

  it('accepts a date as ISO text or as a raw dword', () => {
    expect(decodeBcdDate(checkBlob(image({ date: '2024-09-11' }), 0, 0).header.date)).toBe('2024-09-11');
    expect(checkBlob(image({ date: 0xdeadbeef }), 0, 0).header.date).toBe(0xdeadbeef);
  });

  it('payload is deterministic per seed', () => {
    expect(image({ fill: 3 })).toEqual(image({ fill: 3 }));
    expect(image({ fill: 3 }).subarray(48)).not.toEqual(image({ fill: 4 }).subarray(48));
  });

  it('can build header/loader versions the kernel refuses, checksums still right', () => {
    expect(sanityCheck(image({ headerVersion: 2 }))?.kind).toBe('bad-header-version');
    expect(sanityCheck(image({ loaderVersion: 0 }))?.kind).toBe('bad-header-version');
  });

  it('refuses layouts it cannot express', () => {
    expect(() => image({ dataSize: 62 })).toThrow(RangeError);
    expect(() => image({ dataSize: 0 })).toThrow(RangeError);
    expect(() => image({ dataSize: 64, legacyZeroDataSize: true })).toThrow(RangeError);
    expect(() =>
      image({
        dataSize: 2000,
        legacyZeroDataSize: true,
        extendedSignatures: [{ signature: 1, processorFlags: 1 }],
      }),
    ).toThrow(RangeError);
  });

  it('builds a 1.6 MB image quickly', () => {
    buildMicrocode({ signature: SIG, revision: 1, dataSize: 1_600_000 });
    const start = performance.now();
    const big = buildMicrocode({ signature: SIG, revision: 1, dataSize: 1_600_000, fill: 9 });
    const elapsed = performance.now() - start;
    expect(sanityCheck(big)).toBeUndefined();
    // Generous bound: the point is "milliseconds, not a second" on a loaded CI machine.
    expect(elapsed).toBeLessThan(100);
  });

  it('concatenates images in order', () => {
    const a = image({ revision: 1 });
    const b = image({ revision: 2 });
    const file = concatBlobs(a, b);
    expect(file.length).toBe(a.length + b.length);
    expect(dword(file, a.length + 4)).toBe(2);
  });
});

describe('corruption helpers', () => {
  it('never modify their input', () => {
    const original = image({ extendedSignatures: [{ signature: 1, processorFlags: 1 }] });
    const before = original.slice();
    flipDword(original, 60);
    setDword(original, 4, 9);
    withHeaderField(original, 'revision', 5, { fixChecksum: true });
    truncate(original, 10);
    fixChecksums(original);
    expect(original).toEqual(before);
  });

  it('withHeaderField with fixChecksum leaves a valid image when the value is legal', () => {
    const base = image({ extendedSignatures: [{ signature: 0x906a3, processorFlags: 2 }] });
    expect(sanityCheck(withHeaderField(base, 'revision', 0x77))?.kind).toBe('data-checksum');
    // The revision change moves the main checksum, so the extended entries need resealing too.
    expect(sanityCheck(withHeaderField(base, 'revision', 0x77, { fixChecksum: true }))).toBeUndefined();
  });

  it('flipDword xors with all bits by default', () => {
    expect(dword(flipDword(image(), 4), 4)).toBe(~0x100 >>> 0);
    expect(dword(flipDword(image(), 4, 1), 4)).toBe(0x101);
  });
});
