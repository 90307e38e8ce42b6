import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../src/platform/machine.js';
import { sameWords } from '../../src/platform/mailbox/shared-images.js';

/** The plain definition: dword by dword. */
function reference(a: Uint32Array, at: number, b: Uint32Array, bt: number, count: number): boolean {
  for (let k = 0; k < count; k++) if (a[at + k] !== b[bt + k]) return false;
  return true;
}

// Dwords that make doubles equal with different bits (+0 and -0), NaNs with
// equal and unequal payloads, infinities, and plain values.
const SPECIAL = [
  0, 0x8000_0000, 0x7ff0_0000, 0xfff0_0000, 0x7ff8_0000, 0x7ff8_0001, 0xffff_ffff, 1, 0x3ff0_0000,
];

describe('sameWords: bit-for-bit equality of two dword ranges', () => {
  it('+0 and -0 (equal as doubles) differ; equal NaN bits are the same', () => {
    const plusZero = Uint32Array.of(0, 0, 0, 0);
    const minusZero = Uint32Array.of(0, 0, 0, 0x8000_0000);
    expect(sameWords(plusZero, 0, minusZero, 0, 4)).toBe(false);
    const nan = Uint32Array.of(0, 0x7ff8_0000, 5, 0x7ff0_0001);
    expect(sameWords(nan, 0, nan.slice(), 0, 4)).toBe(true);
    expect(sameWords(nan, 0, Uint32Array.of(0, 0x7ff8_0000, 6, 0x7ff0_0001), 0, 4)).toBe(false);
  });

  it('agrees with the dword loop on random ranges, offsets, lengths and special values', () => {
    const dword = fc.oneof(fc.constantFrom(...SPECIAL), fc.nat({ max: 0xffff_ffff }));
    fc.assert(
      fc.property(
        fc.array(dword, { minLength: 1, maxLength: 64 }),
        fc.nat({ max: 7 }),
        fc.nat({ max: 7 }),
        fc.array(fc.tuple(fc.nat({ max: 63 }), dword), { maxLength: 3 }),
        fc.nat({ max: 3 }),
        (base, at, bt, changes, viewOffset) => {
          const a = new Uint32Array(base.length + 8);
          a.set(base, at);
          // b is a view at a dword offset of its buffer, so both alignments occur.
          const b = new Uint32Array(new ArrayBuffer((base.length + 12) * 4), viewOffset * 4, base.length + 8);
          b.set(base, bt);
          for (const [i, v] of changes) if (i < base.length) b[bt + i] = v;
          for (let count = 0; count <= base.length; count++) {
            expect(sameWords(a, at, b, bt, count)).toBe(reference(a, at, b, bt, count));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('bytesEqual (staged copy against the image in memory)', () => {
  it('agrees with a byte loop for any offsets, lengths and special dwords', () => {
    const byte = fc.nat({ max: 255 });
    fc.assert(
      fc.property(
        fc.array(byte, { maxLength: 80 }),
        fc.nat({ max: 9 }),
        fc.nat({ max: 9 }),
        fc.option(fc.tuple(fc.nat({ max: 79 }), byte), { nil: undefined }),
        fc.boolean(),
        (base, ao, bo, change, signedZero) => {
          const a = new Uint8Array(base.length + 10);
          const b = new Uint8Array(base.length + 10);
          a.set(base, ao);
          b.set(base, bo);
          // -0 against +0 in one float64 lane: the sign byte alone differs.
          if (signedZero && base.length >= 8) b[bo + 7] = (b[bo + 7]! ^ 0x80) & 0xff;
          if (change && change[0] < base.length) b[bo + change[0]] = change[1];
          const x = a.subarray(ao, ao + base.length);
          const y = b.subarray(bo, bo + base.length);
          const expected = x.every((v, i) => v === y[i]);
          expect(bytesEqual(x, y)).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
    expect(bytesEqual(new Uint8Array(3), new Uint8Array(4))).toBe(false);
  });
});
