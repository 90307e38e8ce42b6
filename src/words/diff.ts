import { HOST_IS_LITTLE_ENDIAN, WASM_MIN_DWORDS } from './sum.js';
import { WASM_BLOCK_BYTES, wasmWords } from './wasm-words.js';

/** Dwords of each range per call into the module: half of its memory each. */
const HALF_WORDS = WASM_BLOCK_BYTES / 8;

/**
 * The bits in which `x[xAt, xAt + count)` differs from `y[yAt, yAt + count)`,
 * ORed together: 0 when the ranges are equal, bit for bit; count >= 1.
 *
 * In WebAssembly where it runs (wasm-words.ts). In JavaScript, XOR and OR on
 * dwords, four at a time, beat the float64 comparison this replaces by about a
 * sixth; float64 lanes also needed +0/-0 and NaN checks.
 * The last count % 4 dwords go through masks, not a loop of their own: every
 * access runs on every call, so compiled code never meets one it has no type
 * feedback for (a deopt, repeated at each entry of cached on-stack-replaced
 * code).
 */
export function diffWords(x: Uint32Array, xAt: number, y: Uint32Array, yAt: number, count: number): number {
  const wasm = count >= WASM_MIN_DWORDS && HOST_IS_LITTLE_ENDIAN ? wasmWords() : null;
  if (wasm !== null) {
    // Each range copied into one half of the module's memory, then compared there.
    let diff = 0;
    for (let k = 0; k < count; k += HALF_WORDS) {
      const n = Math.min(HALF_WORDS, count - k);
      wasm.words.set(x.subarray(xAt + k, xAt + k + n), 0);
      wasm.words.set(y.subarray(yAt + k, yAt + k + n), HALF_WORDS);
      diff |= wasm.diff(0, HALF_WORDS * 4, n * 4);
    }
    return diff;
  }
  const shift = yAt - xAt;
  const end4 = xAt + (count & ~3);
  let diff = 0;
  for (let i = xAt; i < end4; i += 4) {
    diff |=
      (x[i]! ^ y[i + shift]!) |
      (x[i + 1]! ^ y[i + 1 + shift]!) |
      (x[i + 2]! ^ y[i + 2 + shift]!) |
      (x[i + 3]! ^ y[i + 3 + shift]!);
  }
  // The tail's dwords, from the last back; a mask is -1 for a dword of the tail, else 0.
  const rest = count & 3;
  const last = xAt + count - 1;
  const m1 = rest >= 1 ? -1 : 0;
  const m2 = rest >= 2 ? -1 : 0;
  const m3 = rest === 3 ? -1 : 0;
  const j2 = last - (1 & m2);
  const j3 = last - (2 & m3);
  return (
    diff |
    ((x[last]! ^ y[last + shift]!) & m1) |
    ((x[j2]! ^ y[j2 + shift]!) & m2) |
    ((x[j3]! ^ y[j3 + shift]!) & m3)
  );
}
