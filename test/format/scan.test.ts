import { describe, expect, it } from 'vitest';
import {
  concatBlobs,
  effectiveDataSize,
  effectiveTotalSize,
  fixMainChecksum,
  flipDword,
  HEADER_FIELD_OFFSETS,
  parseHeader,
  scanFile,
} from '../../src/format/index.js';
import { image, resized, SIG } from './fixtures.js';

describe('parseHeader', () => {
  it('reads the 12 little-endian dwords at any offset', () => {
    const bytes = new Uint8Array(53);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < 12; i++) view.setUint32(5 + i * 4, 0xf0000000 + i, true);
    const h = parseHeader(bytes, 5);
    expect(Object.values(h)).toEqual(Array.from({ length: 12 }, (_, i) => 0xf0000000 + i));
    expect(h.minRequiredRevision).toBe(0xf000000a);
  });

  it('applies the legacy sizes only when the data size field is 0', () => {
    const h = parseHeader(image({ dataSize: 2000, legacyZeroDataSize: true }));
    expect([h.dataSize, h.totalSize, effectiveDataSize(h), effectiveTotalSize(h)]).toEqual([
      0, 0, 2000, 2048,
    ]);
    const modern = parseHeader(image({ dataSize: 64 }));
    expect([effectiveDataSize(modern), effectiveTotalSize(modern)]).toEqual([64, 112]);
  });
});

describe('scanFile', () => {
  it('walks several blobs and records their index and offset', () => {
    const a = image({ revision: 1 });
    const b = image({ revision: 2, extendedSignatures: [{ signature: 0x906a3, processorFlags: 0x80 }] });
    const c = image({ revision: 3, dataSize: 2000, legacyZeroDataSize: true });
    const { blobs, error } = scanFile(concatBlobs(a, b, c));
    expect(error).toBeUndefined();
    expect(blobs.map((x) => [x.index, x.offset, x.header.revision])).toEqual([
      [0, 0, 1],
      [1, a.length, 2],
      [2, a.length + b.length, 3],
    ]);
    expect(blobs[1].extendedSignatures).toEqual([
      { signature: 0x906a3, processorFlags: 0x80, checksum: expect.any(Number) },
    ]);
  });

  it('treats an empty file as holding no blobs (the kernel then finds nothing)', () => {
    expect(scanFile(new Uint8Array(0))).toEqual({ blobs: [] });
  });

  it('keeps the good blobs before a bad one and reports where the bad one starts', () => {
    const good = image();
    const { blobs, error } = scanFile(concatBlobs(good, good, flipDword(good, 60), good));
    expect(blobs).toHaveLength(2);
    expect([error?.kind, error?.offset, error?.index]).toEqual(['data-checksum', 2 * good.length, 2]);
  });

  it('is zero-copy: blob bytes are views of the input buffer', () => {
    const file = concatBlobs(image(), image({ revision: 7 }));
    const [first, second] = scanFile(file).blobs;
    expect(first.bytes.buffer).toBe(file.buffer);
    expect(second.bytes.buffer).toBe(file.buffer);
    expect(second.bytes.byteOffset).toBe(file.byteOffset + first.totalSize);
    expect(second.bytes.length).toBe(second.totalSize);
  });

  it('checks blobs at unaligned offsets (a data size that is not a multiple of 4 is legal)', () => {
    // 2001 data bytes: the kernel's checksum covers 512 whole dwords and ignores the last byte.
    const odd = fixMainChecksum(resized(image({ dataSize: 2000 }), 2049));
    new DataView(odd.buffer).setUint32(HEADER_FIELD_OFFSETS.dataSize, 2001, true);
    const sealed = fixMainChecksum(odd);
    const file = concatBlobs(sealed, image({ revision: 9 }));
    const { blobs, error } = scanFile(file);
    expect(error).toBeUndefined();
    expect(blobs.map((b) => b.offset)).toEqual([2049, 2049].map((n, i) => n * i));
    expect(blobs[1].header.revision).toBe(9);
    expect(scanFile(flipDword(file, 2049 + 60, 8)).error?.kind).toBe('data-checksum');
  });

  it('accepts an input that is itself an unaligned view of a larger buffer', () => {
    const backing = new Uint8Array(image().length + 3);
    backing.set(image(), 3);
    const view = backing.subarray(3);
    const { blobs, error } = scanFile(view);
    expect(error).toBeUndefined();
    expect(blobs[0].header.signature).toBe(SIG);
    expect(blobs[0].bytes.byteOffset).toBe(3);
  });
});
