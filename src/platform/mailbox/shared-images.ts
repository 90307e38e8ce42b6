/**
 * Verified staged images, shared read-only between the devices of every
 * machine in this process: a package that stages the image another package (or
 * an earlier run) already staged compares each chunk with that copy instead of
 * storing it, and its staged copy is that copy. 64 packages staging one image
 * then hold one buffer, not 64, and a new machine allocates none.
 *
 * Nothing observable depends on it: a device keeps using a shared copy only
 * while everything it received equals it, and takes a buffer of its own at
 * the first chunk that differs. A shared buffer is never written again.
 */
class SharedImages {
  /** The last image verified (one buffer, at most the device's largest image). */
  private last: Uint32Array | undefined = undefined;

  /** The shared verified image of `words` dwords, if any. */
  get(words: number): Uint32Array | undefined {
    const last = this.last;
    return last !== undefined && last.length === words ? last : undefined;
  }

  /** `image` passed its checksum and will never be written again: later transfers may compare with it. */
  put(image: Uint32Array): void {
    this.last = image;
  }

  /** Forget the shared image (its memory goes once no device holds it); no run changes. */
  clear(): void {
    this.last = undefined;
  }
}

export const sharedImages = new SharedImages();

/** Whether `words[wordsAt, wordsAt + count)` equals `image[imageAt, imageAt + count)`. */
export function sameWords(
  words: Uint32Array,
  wordsAt: number,
  image: Uint32Array,
  imageAt: number,
  count: number,
): boolean {
  for (let k = 0; k < count; k++) if (words[wordsAt + k] !== image[imageAt + k]) return false;
  return true;
}
