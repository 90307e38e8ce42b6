import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { sumDwords, sumWordRange, sumWords, sumWordsBetween } from '../../src/words/sum.js';
import { useWasmWords, WASM_BLOCK_BYTES, wasmWords } from '../../src/words/wasm-words.js';

/** The definition: little-endian dwords added one by one, modulo 2^32. */
function reference(bytes: Uint8Array, start: number, byteLength: number): number {
  let sum = 0;
  for (let i = start; i + 4 <= start + byteLength; i += 4) {
    sum = (sum + (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
  }
  return sum;
}

/** Bytes from a seed (xorshift32), so that a failing case can be replayed from its numbers. */
function bytesFrom(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// Lengths around the module's block and the JavaScript threshold, and far past them.
const LENGTHS = [0, 1, 3, 4, 60, 252, 256, 260, 4095, WASM_BLOCK_BYTES - 4, WASM_BLOCK_BYTES + 12, 300_001];

afterEach(() => useWasmWords(true));

describe('dword sums', () => {
  it('run in WebAssembly in Node (the JavaScript loops are only the fallback)', () => {
    expect(wasmWords()).not.toBeNull();
  });

  for (const wasm of [true, false]) {
    const path = wasm ? 'WebAssembly' : 'JavaScript';

    it(`${path}: sumDwords equals the definition at any offset, aligned or not, and any length`, () => {
      useWasmWords(wasm);
      expect(wasmWords() !== null).toBe(wasm);
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 2 ** 32 - 1 }),
          fc.constantFrom(...LENGTHS),
          fc.integer({ min: 0, max: 7 }),
          fc.integer({ min: 0, max: 5 }),
          (seed, length, start, slack) => {
            const bytes = bytesFrom(seed, start + length + slack);
            expect(sumDwords(bytes, start, length)).toBe(reference(bytes, start, length));
            // A view that does not start at its buffer's first byte.
            const view = bytes.subarray(1);
            if (start + length + 1 <= bytes.length) {
              expect(sumDwords(view, start, length)).toBe(reference(view, start, length));
            }
          },
        ),
        { numRuns: 150 },
      );
    });

    it(`${path}: sumWordRange, sumWordsBetween and sumWords equal the definition`, () => {
      useWasmWords(wasm);
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 2 ** 32 - 1 }),
          fc.constantFrom(...LENGTHS.filter((n) => n % 4 === 0 && n > 0)),
          fc.integer({ min: 0, max: 40 }),
          (seed, length, from) => {
            const bytes = bytesFrom(seed, length + from * 4 + 8);
            const words = new Uint32Array(bytes.buffer);
            const to = from + length / 4;
            const expected = reference(bytes, from * 4, length);
            expect(sumWordRange(words, from, to) >>> 0).toBe(expected);
            expect(sumWordsBetween(words, from, to)).toBe(expected);
            expect(sumWords(words.subarray(from, to))).toBe(expected);
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('the module keeps no state between calls: the same sums in any order', () => {
    const a = bytesFrom(7, 3 * WASM_BLOCK_BYTES + 40);
    const b = bytesFrom(8, 1000);
    const first = [sumDwords(a, 0, a.length), sumDwords(b, 2, 900), sumDwords(a, 5, a.length - 5)];
    const again = [sumDwords(a, 5, a.length - 5), sumDwords(b, 2, 900), sumDwords(a, 0, a.length)].reverse();
    expect(again).toEqual(first);
    expect(first).toEqual([reference(a, 0, a.length), reference(b, 2, 900), reference(a, 5, a.length - 5)]);
  });
});
