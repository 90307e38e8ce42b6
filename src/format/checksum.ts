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
    const words = new Uint32Array(bytes.buffer, absolute, count);
    for (let i = 0; i < count; i++) sum = (sum + words[i]) | 0;
  } else {
    // Blobs after one with an odd total size sit at unaligned offsets, where Uint32Array cannot go.
    const view = new DataView(bytes.buffer, absolute, count * 4);
    for (let i = 0; i < count; i++) sum = (sum + view.getUint32(i * 4, true)) | 0;
  }
  return sum >>> 0;
}
