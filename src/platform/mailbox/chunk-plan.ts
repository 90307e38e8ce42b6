import type { Rng } from '../rng.js';
import type { DeviceProfile } from './config.js';
import { CHUNK_BYTES, END_OF_IMAGE } from './registers.js';

/**
 * Which chunk a device with the given profile asks for next: the "next offset"
 * of each response, one transfer at a time.
 *
 * - ideal / slow: every chunk once, in order.
 * - limited-cache: the image is taken in windows of `cacheChunks` chunks; at
 *   the end of each window (in every pass) the device asks, with
 *   `rerequestProbability`, for one chunk of that window again (seeded choice),
 *   then carries on. `verifyPass` runs the whole in-order pass a second time;
 *   `extraChunks` then asks for that many more chunks (0, 1, 2, ... cyclically).
 */
export class ChunkPlan {
  private readonly cacheChunks: number;
  private readonly rerequestProbability: number;
  private readonly passes: number;
  private readonly extraChunks: number;
  private chunks = 0;
  private pass = 0;
  private inExtras = false;
  private extrasLeft = 0;
  private extraIndex = 0;
  /** Where to continue after the re-requested chunk now outstanding; -1 when none. */
  private resumeOffset = -1;

  constructor(
    profile: DeviceProfile,
    private readonly rng: Rng,
  ) {
    if (profile.kind === 'limited-cache') {
      this.cacheChunks = profile.cacheChunks;
      this.rerequestProbability = profile.rerequestProbability;
      this.passes = profile.verifyPass ? 2 : 1;
      this.extraChunks = profile.extraChunks;
    } else {
      this.cacheChunks = Number.MAX_SAFE_INTEGER;
      this.rerequestProbability = 0;
      this.passes = 1;
      this.extraChunks = 0;
    }
  }

  /** A new transfer of `imageBytes` bytes; its first chunk is at offset 0. */
  start(imageBytes: number): void {
    this.chunks = Math.ceil(imageBytes / CHUNK_BYTES);
    this.pass = 0;
    this.inExtras = false;
    this.extrasLeft = this.extraChunks;
    this.extraIndex = 0;
    this.resumeOffset = -1;
  }

  /** The offset to ask for after the chunk at `offset` was accepted, or END_OF_IMAGE. */
  next(offset: number): number {
    if (this.resumeOffset >= 0) {
      const resume = this.resumeOffset;
      this.resumeOffset = -1;
      return resume;
    }
    if (this.inExtras) {
      this.extrasLeft--;
      if (this.extrasLeft === 0) return END_OF_IMAGE;
      this.extraIndex++;
      return (this.extraIndex % this.chunks) * CHUNK_BYTES;
    }
    // A scripted answer may have moved the transfer off the 4 KB grid: go on from the chunk it is in.
    const k = Math.floor(offset / CHUNK_BYTES);
    const after = this.afterPassChunk(k);
    const windowEnd = (k + 1) % this.cacheChunks === 0 || k + 1 === this.chunks;
    if (windowEnd && this.rng.chance(this.rerequestProbability)) {
      // The chunk was dropped from the cache before it could be used: ask again.
      const windowStart = k - (k % this.cacheChunks);
      this.resumeOffset = after;
      return this.rng.int(windowStart, k) * CHUNK_BYTES;
    }
    return after;
  }

  private afterPassChunk(k: number): number {
    if (k + 1 < this.chunks) return (k + 1) * CHUNK_BYTES;
    if (this.pass + 1 < this.passes) {
      this.pass++;
      return 0;
    }
    if (this.extrasLeft > 0) {
      this.inExtras = true;
      this.extraIndex = 0;
      return 0;
    }
    return END_OF_IMAGE;
  }
}
