import { HOST_IS_LITTLE_ENDIAN, sumWords, WASM_MIN_DWORDS } from '../words/sum.js';
import { WASM_BLOCK_BYTES, wasmWords } from '../words/wasm-words.js';

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
