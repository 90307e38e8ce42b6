// Typed-array views use the host's byte order; the format is little-endian.
const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Sum, modulo 2^32, of the floor(byteLength / 4) little-endian dwords starting at `start`.
 * Trailing bytes that do not make a whole dword are ignored, as the kernel's loop does.
 */
export function sumDwords(bytes: Uint8Array, start: number, byteLength: number): number {
  const count = Math.floor(byteLength / 4);
  const absolute = bytes.byteOffset + start;
  let sum = 0;
  if (hostIsLittleEndian && absolute % 4 === 0) {
    sum = sumWords(new Uint32Array(bytes.buffer, absolute, count));
  } else {
    // Blobs after one with an odd total size sit at unaligned offsets, where Uint32Array cannot go.
    const view = new DataView(bytes.buffer, absolute, count * 4);
    for (let i = 0; i < count; i++) sum = (sum + view.getUint32(i * 4, true)) | 0;
  }
  return sum >>> 0;
}

/** Dwords summed per call of sumWordRange(). */
const BLOCK = 4096;

/**
 * Sum of every dword of `words`, modulo 2^32, a block at a time. sumWordRange()
 * runs hundreds of times per image and is optimised as a whole function. One
 * loop over the whole image was compiled on-stack-replaced in its first call,
 * before its tail loop ever ran; V8 reuses OSR code at every later entry of the
 * loop, and that code deoptimised at the tail on every call (959 times in the
 * parse benchmark).
 */
export function sumWords(words: Uint32Array): number {
  const n = words.length;
  let sum = 0;
  for (let at = 0; at < n; at += BLOCK) sum = (sum + sumWordRange(words, at, Math.min(n, at + BLOCK))) | 0;
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
