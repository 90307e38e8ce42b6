import { WASM_BLOCK_BYTES, wasmWords } from './wasm-words.js';

// Sums of dwords modulo 2^32: the format's checksums (sumDwords, over little-endian
// bytes), the image builder's and the mailbox device's (over dwords), one implementation.

/** Typed-array views use the host's byte order; WebAssembly memory is little-endian. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Dwords summed per call of sumWordRange(). */
const BLOCK = 4096;

/** Fewer dwords than this are summed in JavaScript: copying them costs more than it saves. */
export const WASM_MIN_DWORDS = 64;
const WASM_BLOCK_WORDS = WASM_BLOCK_BYTES / 4;

/**
 * Sum of every dword of `words`, modulo 2^32, a block at a time. sumWordRange()
 * runs hundreds of times per image and is optimised as a whole function. One
 * loop over the whole image was compiled on-stack-replaced in its first call,
 * before its tail loop ever ran; V8 reuses OSR code at every later entry of the
 * loop, and that code deoptimised at the tail on every call (959 times in the
 * parse benchmark).
 */
export function sumWords(words: Uint32Array): number {
  return sumWordsBetween(words, 0, words.length);
}

/** Sum of words[from, end) modulo 2^32, a block at a time (see sumWords). */
export function sumWordsBetween(words: Uint32Array, from: number, end: number): number {
  let sum = 0;
  for (let at = from; at < end; at += BLOCK)
    sum = (sum + sumWordRange(words, at, Math.min(end, at + BLOCK))) | 0;
  return sum >>> 0;
}

/**
 * Sum of words[from, to) modulo 2^32 (as an int32), from < to. Two independent
 * sums let the CPU overlap the adds. An odd last dword is added through a mask,
 * not a loop of its own: every access runs on every call, so no compiled code
 * meets one it has no type feedback for (which deoptimises, and again at each
 * entry of cached on-stack-replaced code).
 */
export function sumWordRange(words: Uint32Array, from: number, to: number): number {
  const wasm = to - from >= WASM_MIN_DWORDS && HOST_IS_LITTLE_ENDIAN ? wasmWords() : null;
  if (wasm !== null) {
    let sum = 0;
    for (let at = from; at < to; at += WASM_BLOCK_WORDS) {
      const end = Math.min(to, at + WASM_BLOCK_WORDS);
      wasm.words.set(words.subarray(at, end));
      sum = (sum + wasm.sum(0, (end - at) * 4)) | 0;
    }
    return sum;
  }
  const pairsEnd = from + ((to - from) & ~1);
  let a = 0;
  let b = 0;
  for (let i = from; i < pairsEnd; i += 2) {
    a = (a + words[i]!) | 0;
    b = (b + words[i + 1]!) | 0;
  }
  const odd = ((to - from) & 1) === 1 ? -1 : 0;
  return (a + b + (words[to - 1]! & odd)) | 0;
}

/**
 * Sum, modulo 2^32, of the floor(byteLength / 4) little-endian dwords starting at `start`.
 * Trailing bytes that do not make a whole dword are ignored, as the kernel's loop does.
 */
export function sumDwords(bytes: Uint8Array, start: number, byteLength: number): number {
  const count = Math.floor(byteLength / 4);
  const wasm = count >= WASM_MIN_DWORDS ? wasmWords() : null;
  if (wasm !== null) {
    // A block at a time through the module's memory; WebAssembly loads need no alignment.
    let sum = 0;
    const end = start + count * 4;
    for (let at = start; at < end; at += WASM_BLOCK_BYTES) {
      const length = Math.min(WASM_BLOCK_BYTES, end - at);
      wasm.bytes.set(bytes.subarray(at, at + length));
      sum = (sum + wasm.sum(0, length)) | 0;
    }
    return sum >>> 0;
  }
  const absolute = bytes.byteOffset + start;
  let sum = 0;
  if (HOST_IS_LITTLE_ENDIAN && absolute % 4 === 0) {
    sum = sumWords(new Uint32Array(bytes.buffer, absolute, count));
  } else {
    // Blobs after one with an odd total size sit at unaligned offsets, where Uint32Array cannot go.
    const view = new DataView(bytes.buffer, absolute, count * 4);
    for (let i = 0; i < count; i++) sum = (sum + view.getUint32(i * 4, true)) | 0;
  }
  return sum >>> 0;
}
