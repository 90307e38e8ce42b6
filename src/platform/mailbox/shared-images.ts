import { diffWords } from '../../words/diff.js';

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
