import { describe, expect, it } from 'vitest';
import {
  checkBlob,
  cpuPlatformFlag,
  decodeBcdDate,
  decodeSignature,
  encodeBcdDate,
  fmsFileName,
  hex,
  parseFmsFileName,
  platformIdFromMsr,
  signatureMatches,
} from '../../src/format/index.js';
import { image } from './fixtures.js';

describe('family, model, stepping', () => {
  it.each([
    ['06-ad-01', 0xa06d1, { family: 6, model: 0xad, stepping: 1 }],
    ['06-8f-08', 0x806f8, { family: 6, model: 0x8f, stepping: 8 }],
    ['06-03-02', 0x1632, { family: 6, model: 3, stepping: 2 }],
    ['0f-04-0a', 0xf4a, { family: 0xf, model: 4, stepping: 0xa }],
    ['1a-04-00', 0x00b00f40, { family: 0x1a, model: 0x4, stepping: 0 }],
    ['10e-00-00', 0x0ff00f00, { family: 0x10e, model: 0, stepping: 0 }],
    ['05-04-03', 0x00050543, { family: 5, model: 4, stepping: 3 }],
  ])('%s decodes like Linux x86_family/x86_model', (name, sig, fms) => {
    expect(decodeSignature(sig)).toEqual(fms);
    expect(fmsFileName(sig)).toBe(name);
  });

  it('parses file names back to a signature', () => {
    expect(parseFmsFileName('06-ad-01')).toEqual({ family: 6, model: 0xad, stepping: 1, signature: 0xa06d1 });
    expect(parseFmsFileName('0f-04-0a')?.signature).toBe(0xf4a);
    expect(parseFmsFileName('1a-04-00')?.signature).toBe(0x00b00f40);
    expect(parseFmsFileName('10e-00-00')?.signature).toBe(0x0ff00f00);
  });

  it.each(['06-AD-01', '06-ad-1', '06-ad-10', '05-14-00', 'x6-ad-01', '06-ad-01.bak', '10f-00-00', ''])(
    'rejects %j, which the kernel never requests',
    (name) => expect(parseFmsFileName(name)).toBeUndefined(),
  );
});

describe('platform flags and matching', () => {
  it('turns a platform id or MSR 0x17 into the CPU flag bit', () => {
    expect([0, 3, 7, 8 + 2].map(cpuPlatformFlag)).toEqual([1, 8, 0x80, 4]);
    expect(platformIdFromMsr(5n << 50n)).toBe(5);
    expect(platformIdFromMsr((7n << 50n) | (1n << 53n) | 0xffffn)).toBe(7);
  });

  const blob = checkBlob(
    image({
      signature: 0x50654,
      processorFlags: 0x06,
      extendedSignatures: [{ signature: 0x50657, processorFlags: 0x80 }],
    }),
    0,
    0,
  );
  const zeroPf = checkBlob(image({ signature: 0x634, processorFlags: 0 }), 0, 0);

  it.each([
    ['main signature, masks intersect', blob, { signature: 0x50654, platformFlags: 0x04 }, true],
    ['main signature, masks disjoint', blob, { signature: 0x50654, platformFlags: 0x80 }, false],
    ['extended signature with its own mask', blob, { signature: 0x50657, platformFlags: 0x80 }, true],
    [
      'extended signature, main mask does not apply',
      blob,
      { signature: 0x50657, platformFlags: 0x02 },
      false,
    ],
    ['other signature', blob, { signature: 0x50655, platformFlags: 0x04 }, false],
    ['both flags zero', zeroPf, { signature: 0x634, platformFlags: 0 }, true],
    ['CPU flags zero, blob flags not', blob, { signature: 0x50654, platformFlags: 0 }, false],
    ['blob flags zero, CPU flags not', zeroPf, { signature: 0x634, platformFlags: 1 }, false],
  ])('%s', (_, b, cpu, expected) => expect(signatureMatches(b, cpu)).toBe(expected));
});

describe('dates and hex', () => {
  it('decodes BCD 0xMMDDYYYY to ISO', () => {
    expect(decodeBcdDate(0x02152024)).toBe('2024-02-15');
    expect(decodeBcdDate(0x12311999)).toBe('1999-12-31');
  });

  it.each([0x0a152024, 0x021f2024, 0x00152024, 0x13012024, 0x02002024, 0x0232202a])(
    'flags %i as not a BCD date',
    (dword) => expect(decodeBcdDate(dword)).toBeUndefined(),
  );

  it('encodes ISO dates and refuses others', () => {
    expect(encodeBcdDate('2024-09-11')).toBe(0x09112024);
    expect(() => encodeBcdDate('2024-13-01')).toThrow(RangeError);
    expect(() => encodeBcdDate('11/09/2024')).toThrow(RangeError);
  });

  it('formats hex with optional padding', () => {
    expect(hex(0xa06d1, 8)).toBe('0x000a06d1');
    expect(hex(0x95)).toBe('0x95');
    expect(hex(0xffffffff)).toBe('0xffffffff');
  });
});
