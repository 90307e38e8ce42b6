import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { buildMicrocode } from '../../src/format/builder.js';
import { sharedImages } from '../../src/platform/mailbox/shared-images.js';
import { resultJson } from '../../src/sim/json.js';
import { simulate } from '../../src/sim/simulate.js';
import { diffWords } from '../../src/words/diff.js';
import { sumDwords } from '../../src/words/sum.js';
import { useWasmWords, WASM_BLOCK_BYTES, wasmWords } from '../../src/words/wasm-words.js';

/** The definition: the OR of the XORs of the dword pairs, as an int32. */
function reference(x: Uint32Array, xAt: number, y: Uint32Array, yAt: number, count: number): number {
  let d = 0;
  for (let i = 0; i < count; i++) d |= x[xAt + i]! ^ y[yAt + i]!;
  return d;
}

// Around the JavaScript threshold (64), the module's half block (8,192 dwords) and past it.
const COUNTS = [1, 3, 4, 63, 64, 65, 1024, 1027, WASM_BLOCK_BYTES / 8 - 1, WASM_BLOCK_BYTES / 8 + 5, 20_000];

afterEach(() => useWasmWords(true));

describe('diffWords', () => {
  for (const wasm of [true, false]) {
    it(`${wasm ? 'WebAssembly' : 'JavaScript'}: the OR of the XORs, with differences anywhere or nowhere`, () => {
      useWasmWords(wasm);
      expect(wasmWords() !== null).toBe(wasm);
      fc.assert(
        fc.property(
          fc.constantFrom(...COUNTS),
          fc.integer({ min: 0, max: 9 }),
          fc.integer({ min: 0, max: 9 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 31 })), { maxLength: 3 }),
          fc.integer({ min: 1, max: 2 ** 32 - 1 }),
          (count, xAt, yAt, flips, seed) => {
            const x = new Uint32Array(xAt + count + 2);
            let s = seed;
            for (let i = 0; i < x.length; i++) {
              s ^= s << 13;
              s ^= s >>> 17;
              s ^= s << 5;
              x[i] = s >>> 0;
            }
            const y = new Uint32Array(yAt + count + 2);
            y.set(x.subarray(xAt, xAt + count), yAt);
            // Bits flipped inside the range, and dwords just outside it that must not count.
            for (const [at, bit] of flips) y[yAt + (at % count)]! ^= 1 << bit;
            if (yAt > 0) y[yAt - 1] = ~x[Math.max(xAt - 1, 0)]!;
            y[yAt + count] = ~x[xAt + count]!;
            expect(diffWords(x, xAt, y, yAt, count)).toBe(reference(x, xAt, y, yAt, count));
            expect(diffWords(x, xAt, y, yAt, count) === 0).toBe(
              flips.length === 0 || reference(x, xAt, y, yAt, count) === 0,
            );
          },
        ),
        { numRuns: 200 },
      );
    });
  }
});

describe('the synthetic payload', () => {
  it('WebAssembly makes the same image as the JavaScript generator, seed for seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.constantFrom(4, 2000, 4096, 65_532, 65_536, 65_540, 300_000),
        (fill, dataSize) => {
          const opts = { signature: 0xa06d1, revision: 7, dataSize, fill };
          useWasmWords(false);
          const js = buildMicrocode(opts);
          useWasmWords(true);
          const wasm = buildMicrocode(opts);
          expect(Buffer.compare(Buffer.from(wasm), Buffer.from(js))).toBe(0);
          expect(sumDwords(wasm, 0, 48 + dataSize)).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('a whole run', () => {
  it('gives the same result, byte for byte, with WebAssembly and with the JavaScript loops', () => {
    const run = (wasm: boolean) => {
      useWasmWords(wasm);
      sharedImages.clear();
      // Two packages: the first stores and sums its chunks, the second compares them.
      return resultJson(simulate({ machine: 'gnr-2s', syntheticImageBytes: 256 * 1024, seed: 7 }));
    };
    const js = run(false);
    const wasm = run(true);
    expect(wasm).toBe(js);
    expect(JSON.parse(wasm).outcome).toBe('updated');
  });
});
