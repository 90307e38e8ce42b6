import { describe, expect, it } from 'vitest';
import {
  concatBlobs,
  flipDword,
  type LateLoadCpu,
  selectForLateLoad,
  truncate,
} from '../../src/format/index.js';
import { image, SIG } from './fixtures.js';

const NO_MIN = 'Unsafe microcode update: Microcode header does not specify a required min version';
const tooOld = (cur: string, min: string) => [
  `Unsafe microcode update: Current revision ${cur} too old`,
  `Current should be at ${min} or higher. Use early loading instead`,
];

const cpu = (revision: number, extra: Partial<LateLoadCpu> = {}): LateLoadCpu => ({
  signature: SIG,
  platformFlags: 0x10,
  revision,
  ...extra,
});

describe('choosing a blob', () => {
  it('takes the newest matching revision above the current one, not the last in the file', () => {
    const file = concatBlobs(
      image({ revision: 0x10, minRequiredRevision: 1 }),
      image({ revision: 0x20, minRequiredRevision: 1 }),
      image({ revision: 0x15, minRequiredRevision: 1 }),
    );
    const s = selectForLateLoad(file, cpu(0x5));
    expect([s.outcome, s.blob?.header.revision, s.blob?.index]).toEqual(['new-safe', 0x20, 1]);
    expect(s.messages).toEqual([]);
  });

  it('ignores blobs at or below the current revision and reports not-found', () => {
    const file = concatBlobs(image({ revision: 0x10 }), image({ revision: 0x20 }));
    expect(selectForLateLoad(file, cpu(0x20))).toEqual({ outcome: 'not-found', messages: [] });
  });

  it('compares revisions as unsigned 32-bit numbers', () => {
    const file = concatBlobs(image({ revision: 0x7fffffff, minRequiredRevision: 1 }));
    expect(selectForLateLoad(file, cpu(0x80000000)).outcome).toBe('not-found');
    const newer = image({ revision: 0x90000000, minRequiredRevision: 0x80000000 });
    expect(selectForLateLoad(newer, cpu(0x80000001)).outcome).toBe('new-safe');
  });

  it('skips blobs for other signatures or platforms', () => {
    const file = concatBlobs(
      image({ revision: 0x30, signature: SIG + 1 }),
      image({ revision: 0x40, processorFlags: 0x01 }),
    );
    expect(selectForLateLoad(file, cpu(0)).outcome).toBe('not-found');
  });

  it('matches an extended signature', () => {
    const file = image({
      revision: 0x30,
      signature: 0x806f8,
      processorFlags: 0x87,
      minRequiredRevision: 0x1,
      extendedSignatures: [{ signature: 0x806f4, processorFlags: 0x87 }],
    });
    const s = selectForLateLoad(file, { signature: 0x806f4, platformFlags: 0x04, revision: 0x2 });
    expect([s.outcome, s.blob?.header.revision]).toEqual(['new-safe', 0x30]);
  });

  it('matches platform flags when both are zero or they intersect', () => {
    const zero = image({ revision: 2, processorFlags: 0, minRequiredRevision: 1 });
    expect(selectForLateLoad(zero, cpu(1, { platformFlags: 0 })).outcome).toBe('new-safe');
    expect(selectForLateLoad(zero, cpu(1, { platformFlags: 1 })).outcome).toBe('not-found');
    const mask = image({ revision: 2, processorFlags: 0x12, minRequiredRevision: 1 });
    expect(selectForLateLoad(mask, cpu(1, { platformFlags: 0x02 })).outcome).toBe('new-safe');
    expect(selectForLateLoad(mask, cpu(1, { platformFlags: 0x04 })).outcome).toBe('not-found');
    expect(selectForLateLoad(mask, cpu(1, { platformFlags: 0 })).outcome).toBe('not-found');
  });

  it('finds nothing in an empty file', () => {
    expect(selectForLateLoad(new Uint8Array(0), cpu(0)).outcome).toBe('not-found');
  });
});

describe('minimum revision rule', () => {
  it('a header without a minimum revision is unsafe, once per candidate considered', () => {
    const file = concatBlobs(image({ revision: 0x10 }), image({ revision: 0x20 }), image({ revision: 0x18 }));
    const s = selectForLateLoad(file, cpu(0x5));
    expect([s.outcome, s.blob?.header.revision]).toEqual(['new-unsafe', 0x20]);
    expect(s.messages).toEqual([NO_MIN, NO_MIN]);
  });

  it('a running revision below the minimum is unsafe, printed in unpadded lower-case hex', () => {
    const s = selectForLateLoad(image({ revision: 0x2c000410, minRequiredRevision: 0x2c0001d0 }), cpu(0xab));
    expect(s.outcome).toBe('new-unsafe');
    expect(s.messages).toEqual(tooOld('0xab', '0x2c0001d0'));
  });

  it('a running revision equal to the minimum is safe', () => {
    const s = selectForLateLoad(image({ revision: 0x30, minRequiredRevision: 0x20 }), cpu(0x20));
    expect(s).toMatchObject({ outcome: 'new-safe', messages: [] });
  });

  it('checks against the running revision, not a better candidate found earlier in the file', () => {
    const file = concatBlobs(
      image({ revision: 0x10, minRequiredRevision: 0x1 }),
      image({ revision: 0x20, minRequiredRevision: 0x10 }),
    );
    const s = selectForLateLoad(file, cpu(0x5));
    expect([s.outcome, s.blob?.header.revision]).toEqual(['new-unsafe', 0x20]);
    expect(s.messages).toEqual(tooOld('0x5', '0x10'));
  });

  it('force_minrev skips unsafe blobs and may settle on an older safe one', () => {
    const file = concatBlobs(
      image({ revision: 0x10, minRequiredRevision: 0x1 }),
      image({ revision: 0x20 }),
      image({ revision: 0x18, minRequiredRevision: 0x2 }),
    );
    const forced = selectForLateLoad(file, cpu(0x5), { forceMinrev: true });
    expect([forced.outcome, forced.blob?.header.revision]).toEqual(['new-safe', 0x18]);
    expect(forced.messages).toEqual([NO_MIN]);
    const unforced = selectForLateLoad(file, cpu(0x5));
    expect([unforced.outcome, unforced.blob?.header.revision]).toEqual(['new-unsafe', 0x20]);
  });

  it('force_minrev with only unsafe blobs finds nothing, but the reasons are still logged', () => {
    const s = selectForLateLoad(image({ revision: 0x20, minRequiredRevision: 0x10 }), cpu(0x5), {
      forceMinrev: true,
    });
    expect(s.outcome).toBe('not-found');
    expect(s.blob).toBeUndefined();
    expect(s.messages).toEqual(tooOld('0x5', '0x10'));
  });
});

describe('broken files', () => {
  it('a bad blob after a good candidate rejects the whole file, keeping the lines already printed', () => {
    const file = concatBlobs(image({ revision: 0x20 }), flipDword(image({ revision: 0x30 }), 60));
    const s = selectForLateLoad(file, cpu(0x5));
    expect(s.outcome).toBe('error');
    expect(s.blob).toBeUndefined();
    expect(s.messages).toEqual([NO_MIN, 'Bad microcode data checksum, aborting.']);
    expect([s.error?.kind, s.error?.offset, s.error?.index]).toEqual(['data-checksum', image().length, 1]);
  });

  it('a bad blob before any candidate rejects the file with only its message', () => {
    const file = concatBlobs(truncate(image(), 30));
    const s = selectForLateLoad(file, cpu(0x5));
    expect(s).toMatchObject({
      outcome: 'error',
      messages: ['error! Truncated or inaccessible header in microcode data file'],
    });
  });

  it('a bad blob for another CPU still rejects the file', () => {
    const file = concatBlobs(
      image({ revision: 0x20, minRequiredRevision: 1 }),
      flipDword(image({ signature: 1 }), 60),
    );
    expect(selectForLateLoad(file, cpu(0x5)).outcome).toBe('error');
  });
});
