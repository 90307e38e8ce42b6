/**
 * Verified staged images, shared read-only between the devices of every
 * machine in this process: a package that stages the image another package (or
 * an earlier run) already staged compares each chunk with that copy instead of
 * storing it, and its staged copy is that copy (the same bytes view, so the
 * machine compares it with the image in memory once). 64 packages staging one
 * image then hold one buffer, not 64, and a new machine allocates none.
 *
 * Nothing observable depends on it: a device keeps using a shared copy only
 * while everything it received equals it, and takes a buffer of its own at
 * the first chunk that differs. A shared buffer is never written again.
 *
 * Only a device's first transfer compares: a device that stages again takes a
 * buffer of its own once and recycles it from then on (a copy into a buffer
 * already paged in and a checksum cost less than the comparison).
 */
/** A verified image as the devices hold it, and as stagedImage() shows it. */
export interface SharedImage {
  words: Uint32Array;
  bytes: Uint8Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

class SharedImages {
  /** The last image shared (one buffer, at most the device's largest image). */
  private last: SharedImage | undefined = undefined;

  /** The shared verified image of `words` dwords, if any. */
  get(words: number): SharedImage | undefined {
    const last = this.last;
    return last !== undefined && last.words.length === words ? last : undefined;
  }

  /** `words` passed its checksum and will never be written again: later transfers may compare with it. */
  put(words: Uint32Array): SharedImage {
    const bytes = LITTLE_ENDIAN
      ? new Uint8Array(words.buffer, words.byteOffset, words.byteLength)
      : toBytes(words);
    this.last = { words, bytes };
    return this.last;
  }

  /** Forget the shared image (its memory goes once no device holds it); no run changes. */
  clear(): void {
    this.last = undefined;
  }
}

function toBytes(dwords: Uint32Array): Uint8Array {
  const out = new Uint8Array(dwords.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < dwords.length; i++) view.setUint32(i * 4, dwords[i]!, true);
  return out;
}

export const sharedImages = new SharedImages();

/**
 * The bits in which `x[xAt, xAt + count)` differs from `y[yAt, yAt + count)`,
 * ORed together: 0 when the ranges are equal, bit for bit; count >= 1.
 *
 * XOR and OR on dwords, four at a time, beat the float64 comparison this
 * replaces by about a sixth; float64 lanes also needed +0/-0 and NaN checks.
 * The last count % 4 dwords go through masks, not a loop of their own: every
 * access runs on every call, so compiled code never meets one it has no type
 * feedback for (a deopt, repeated at each entry of cached on-stack-replaced
 * code).
 */
export function diffWords(x: Uint32Array, xAt: number, y: Uint32Array, yAt: number, count: number): number {
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

/** Dwords per diffWords() call in sameWords(): a difference ends the comparison within a block. */
const BLOCK = 4096;

/** Whether `words[wordsAt, wordsAt + count)` equals `image[imageAt, imageAt + count)`, bit for bit. */
export function sameWords(
  words: Uint32Array,
  wordsAt: number,
  image: Uint32Array,
  imageAt: number,
  count: number,
): boolean {
  for (let k = 0; k < count; k += BLOCK)
    if (diffWords(words, wordsAt + k, image, imageAt + k, Math.min(BLOCK, count - k)) !== 0) return false;
  return true;
}
