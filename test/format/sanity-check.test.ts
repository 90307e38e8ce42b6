import { describe, expect, it } from 'vitest';
import { parseHeader } from '../../src/format/header.js';
import {
  checkBlob,
  extTableOffset,
  FORMAT_ERROR_KINDS,
  type FormatErrorKind,
  fixExtTableChecksum,
  fixMainChecksum,
  flipDword,
  HEADER_FIELD_OFFSETS,
  kernelMessageFor,
  MicrocodeFormatError,
  sanityCheck,
  scanFile,
  setDword,
  truncate,
  withHeaderField,
} from '../../src/format/index.js';
import { exttableSize, findSanityFailure } from '../../src/format/sanity-check.js';
import { image, resized } from './fixtures.js';

/** Sets the header checksum so the first `bytes` bytes sum to 0 (the kernel's header + data). */
function fixMainChecksumOver(blob: Uint8Array, bytes: number): Uint8Array {
  const copy = blob.slice();
  const v = new DataView(copy.buffer);
  v.setUint32(16, 0, true);
  let sum = 0;
  for (let at = 0; at < bytes; at += 4) sum = (sum + v.getUint32(at, true)) >>> 0;
  v.setUint32(16, (0x1_0000_0000 - sum) >>> 0, true);
  return copy;
}

const messages: Record<FormatErrorKind, string> = {
  'truncated-header': 'error! Truncated or inaccessible header in microcode data file',
  'totalsize-too-small': 'error! Bad data in microcode data file (totalsize too small)',
  'truncated-file': 'error! Bad data in microcode data file (truncated file?)',
  'bad-size': 'Error: bad microcode data file size.',
  'bad-header-version': '',
  'ext-table-truncated': 'Error: truncated extended signature table.',
  'ext-table-size-mismatch': 'Error: extended signature table size mismatch.',
  'ext-table-checksum': 'Bad extended signature table checksum, aborting.',
  'data-checksum': 'Bad microcode data checksum, aborting.',
  'ext-signature-checksum': 'Bad extended signature checksum, aborting.',
};

/** The first error scanning `file`, which must exist. */
function failureOf(file: Uint8Array): MicrocodeFormatError {
  const { error } = scanFile(file);
  if (!error) throw new Error('expected the file to be rejected');
  return error;
}

function expectRejected(file: Uint8Array, kind: FormatErrorKind, message = messages[kind]): void {
  const error = failureOf(file);
  expect(error).toBeInstanceOf(MicrocodeFormatError);
  expect(error.kind).toBe(kind);
  expect(error.kernelMessage).toBe(message);
}

const withExt = () =>
  image({
    extendedSignatures: [
      { signature: 0xa06d0, processorFlags: 0x1 },
      { signature: 0xa06d2, processorFlags: 0x2 },
    ],
  });
const extTable = (bytes: Uint8Array): number => extTableOffset(bytes)!;
const EXT_COUNT = 0;
const EXT_CHECKSUM = 4;
const EXT_RESERVED = 8;
const firstEntry = (bytes: Uint8Array): number => extTable(bytes) + 20;

describe('valid images', () => {
  it('accepts a built image with and without an extended table', () => {
    expect(scanFile(image()).error).toBeUndefined();
    expect(scanFile(withExt()).error).toBeUndefined();
    expect(sanityCheck(withExt())).toBeUndefined();
  });

  it('accepts a legacy header (data size 0) whatever its total size field holds', () => {
    const legacy = image({ dataSize: 2000, legacyZeroDataSize: true });
    const garbageTotal = withHeaderField(legacy, 'totalSize', 0x12345, { fixChecksum: true });
    const blob = checkBlob(garbageTotal, 0, 0);
    expect([blob.dataSize, blob.totalSize]).toEqual([2000, 2048]);
  });
});

describe('file walk checks', () => {
  it('truncated-header: fewer than 48 bytes where a blob should start', () => {
    expectRejected(new Uint8Array(47), 'truncated-header');
    const trailing = new Uint8Array(image().length + 10);
    trailing.set(image());
    const error = failureOf(trailing);
    expect([error.kind, error.offset, error.index]).toEqual(['truncated-header', image().length, 1]);
  });

  it('totalsize-too-small: before any size or checksum rule', () => {
    const tiny = withHeaderField(image(), 'totalSize', 47);
    expectRejected(tiny, 'totalsize-too-small');
    expectRejected(withHeaderField(tiny, 'headerVersion', 2), 'totalsize-too-small');
    expect(scanFile(withHeaderField(image(), 'totalSize', 48)).error?.kind).toBe('bad-size');
  });

  it('truncated-file: total size past the end of the file, checked before the header version', () => {
    const whole = image();
    expect(scanFile(whole).error).toBeUndefined();
    expectRejected(truncate(whole, whole.length - 1), 'truncated-file');
    expectRejected(truncate(withHeaderField(whole, 'headerVersion', 2), whole.length - 4), 'truncated-file');
  });

  it('truncated-file: a total size beyond 32-bit range of the remaining bytes is not wrapped', () => {
    expectRejected(withHeaderField(image(), 'totalSize', 0xffffffff), 'truncated-file');
  });
});

describe('sanity check, in kernel order', () => {
  it('bad-size: data size plus header larger than the total size', () => {
    const short = withHeaderField(image(), 'totalSize', 64 + 48 - 4, { fixChecksum: true });
    expectRejected(short, 'bad-size');
    expectRejected(withHeaderField(short, 'headerVersion', 2), 'bad-size');
  });

  it('bad-size: a huge data size does not wrap around', () => {
    expectRejected(withHeaderField(image(), 'dataSize', 0xfffffff0), 'bad-size');
  });

  it('bad-size: a data size of 2 GiB or more is negative in the kernel (int), whatever the total size', () => {
    // Only a file over 2 GiB could carry such a blob past the walk, so the header is checked alone:
    // plain arithmetic would find 48 + 0x80000000 == total and go on to checksum 2 GiB.
    const header = parseHeader(image());
    for (const dataSize of [0x8000_0000, 0xc000_0000, 0xffff_ffcf, 0xffff_ffd0, 0xffff_ffff]) {
      const failure = findSanityFailure(new Uint8Array(64), 0, {
        ...header,
        dataSize,
        totalSize: Math.min(0xffff_ffff, dataSize + 48),
      });
      expect(failure?.kind, dataSize.toString(16)).toBe('bad-size');
    }
  });

  it('bad-size, on purpose: data sizes 0xffffffd0 and up, which the kernel lets through (docs/format.md)', () => {
    // 48 + 0xfffffffc is 44 in the kernel's arithmetic, which would take offset 44 as a 20-byte
    // extended table; the reserved dword there is its count (0), so every kernel check passes.
    const g = new Uint8Array(64);
    const v = new DataView(g.buffer);
    for (const [at, value] of [
      [0, 1],
      [12, 0xa06d1],
      [20, 1],
      [28, 0xffff_fffc],
      [32, 64],
    ] as const)
      v.setUint32(at, value, true);
    expectRejected(fixMainChecksumOver(g, 44), 'bad-size');
  });

  it('bad-header-version: header or loader version other than 1, printed as a signed int', () => {
    const v2 = withHeaderField(image(), 'headerVersion', 2, { fixChecksum: true });
    expectRejected(v2, 'bad-header-version', 'Error: invalid/unknown microcode update format. Header type 2');
    const minusOne = withHeaderField(image(), 'headerVersion', 0xffffffff, { fixChecksum: true });
    expectRejected(
      minusOne,
      'bad-header-version',
      'Error: invalid/unknown microcode update format. Header type -1',
    );
    const loader = withHeaderField(image(), 'loaderVersion', 0, { fixChecksum: true });
    expectRejected(
      loader,
      'bad-header-version',
      'Error: invalid/unknown microcode update format. Header type 1',
    );
  });

  it('bad-header-version comes before extended table and checksum rules', () => {
    const broken = setDword(
      withHeaderField(withExt(), 'headerVersion', 3),
      extTable(withExt()) + EXT_COUNT,
      7,
    );
    expectRejected(
      broken,
      'bad-header-version',
      'Error: invalid/unknown microcode update format. Header type 3',
    );
  });

  it('ext-table-truncated: table shorter than its 20-byte header', () => {
    const base = image();
    const twelveExtra = fixMainChecksum(resized(base, base.length + 12));
    expectRejected(twelveExtra, 'ext-table-truncated');
  });

  it('ext-table-truncated: entries that are not whole 12-byte records, before the count rule', () => {
    const base = withExt();
    // One byte short of the last entry: the count still says 2, the size says 1.9 entries.
    const ragged = fixMainChecksum(resized(base, base.length - 4));
    expectRejected(ragged, 'ext-table-truncated');
  });

  it('ext-table-size-mismatch: count disagrees with the table size', () => {
    const base = withExt();
    const counted = fixExtTableChecksum(setDword(base, extTable(base) + EXT_COUNT, 3));
    expectRejected(counted, 'ext-table-size-mismatch');
    expectRejected(setDword(base, extTable(base) + EXT_COUNT, 0xffffffff), 'ext-table-size-mismatch');
  });

  it('the table size is count * 12 + 20 modulo 2^32, as exttable_size() returns an unsigned int', () => {
    expect(exttableSize(2)).toBe(44);
    expect(exttableSize(0x4000_0002)).toBe(44);
    expect(exttableSize(0xc000_0002)).toBe(44);
    expect(exttableSize(0xffff_ffff)).toBe(8);
  });

  it('a count whose size wraps passes the size rule: the table and data checksums still come first', () => {
    const base = withExt();
    const wrapped = setDword(base, extTable(base) + EXT_COUNT, 0x4000_0002);
    // Before this followed the kernel it was ext-table-size-mismatch in every case below.
    expectRejected(wrapped, 'ext-table-checksum');
    expectRejected(fixExtTableChecksum(flipDword(wrapped, 52)), 'data-checksum');
    expectRejected(fixExtTableChecksum(flipDword(wrapped, firstEntry(base), 0x10)), 'ext-signature-checksum');
  });

  it('a wrapped count whose entries inside the table match is refused at the first entry past it', () => {
    const base = withExt();
    for (const count of [0x4000_0002, 0x8000_0002, 0xc000_0002]) {
      const sealed = fixExtTableChecksum(setDword(base, extTable(base) + EXT_COUNT, count));
      expectRejected(sealed, 'ext-signature-checksum');
      expect(sanityCheck(sealed)?.kind).toBe('ext-signature-checksum');
    }
  });

  it('ext-table-size-mismatch comes before the table checksum and the data checksum', () => {
    const base = withExt();
    const both = flipDword(setDword(base, extTable(base) + EXT_COUNT, 1), 100);
    expectRejected(both, 'ext-table-size-mismatch');
  });

  it('ext-table-checksum: any dword of the table, including reserved ones', () => {
    const base = withExt();
    expectRejected(flipDword(base, extTable(base) + EXT_RESERVED, 1), 'ext-table-checksum');
    expectRejected(flipDword(base, extTable(base) + EXT_CHECKSUM, 1), 'ext-table-checksum');
  });

  it('ext-table-checksum comes before the data checksum', () => {
    const base = withExt();
    expectRejected(flipDword(flipDword(base, extTable(base) + EXT_RESERVED), 60), 'ext-table-checksum');
  });

  it('data-checksum: any dword of header or data', () => {
    expectRejected(flipDword(image(), 60, 0x100), 'data-checksum');
    expectRejected(withHeaderField(image(), 'reserved', 1), 'data-checksum');
    expectRejected(flipDword(withExt(), 48 + 64 - 4), 'data-checksum');
  });

  it('data-checksum comes before the extended signature checksums', () => {
    const base = withExt();
    const entryBroken = fixExtTableChecksum(flipDword(base, firstEntry(base), 0x10));
    expectRejected(entryBroken, 'ext-signature-checksum');
    expectRejected(flipDword(entryBroken, 52), 'data-checksum');
  });

  it('ext-signature-checksum: any entry, not only the first', () => {
    const base = withExt();
    expectRejected(
      fixExtTableChecksum(flipDword(base, firstEntry(base) + 12 + 4, 0x4)),
      'ext-signature-checksum',
    );
    expectRejected(fixExtTableChecksum(flipDword(base, firstEntry(base) + 8, 1)), 'ext-signature-checksum');
  });
});

describe('sanityCheck on a lone image', () => {
  it('returns undefined for a good image and the same error as the file walk for a bad one', () => {
    expect(sanityCheck(image())).toBeUndefined();
    const bad = flipDword(image(), 60);
    expect(sanityCheck(bad)?.kind).toBe('data-checksum');
    expect(sanityCheck(bad)?.offset).toBe(0);
  });

  it('ignores bytes past the total size and reports short buffers as truncated', () => {
    const padded = new Uint8Array(image().length + 7);
    padded.set(image());
    expect(sanityCheck(padded)).toBeUndefined();
    expect(sanityCheck(truncate(image(), 20))?.kind).toBe('truncated-header');
    expect(sanityCheck(truncate(image(), 100))?.kind).toBe('truncated-file');
  });

  it('checkBlob throws the error with the blob position', () => {
    const file = new Uint8Array(image().length * 2);
    file.set(image());
    file.set(flipDword(image(), 60), image().length);
    expect(checkBlob(file, 0, 0).header.revision).toBe(0x100);
    try {
      checkBlob(file, image().length, 1);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MicrocodeFormatError);
      const e = err as MicrocodeFormatError;
      expect([e.kind, e.offset, e.index]).toEqual(['data-checksum', image().length, 1]);
      expect(e.message).toContain('Bad microcode data checksum, aborting.');
    }
  });

  it('offset in the header field table matches the documented layout', () => {
    expect(HEADER_FIELD_OFFSETS.minRequiredRevision).toBe(40);
  });

  it('lists every kind in check order with its message', () => {
    expect(FORMAT_ERROR_KINDS).toEqual(Object.keys(messages));
    for (const kind of FORMAT_ERROR_KINDS) {
      if (kind !== 'bad-header-version') expect(kernelMessageFor(kind)).toBe(messages[kind]);
    }
  });
});
