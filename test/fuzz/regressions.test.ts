import { describe, expect, it } from 'vitest';
import { MicrocodeFormatError, scanFile } from '../../src/format/index.js';
import { checkFormatCase } from './check.js';
import { fromHex } from './oracle.js';

// Inputs the fuzzers must keep handling. A crash or disagreement found by
// format-fuzz.test.ts goes here as its minimized hex, with the verdict the
// kernel's rules give. So far (docs/reliability.md) the fuzzers found no crash,
// no untyped exception and no accepted bad checksum; the cases below are the
// boundary inputs that the fuzzers' edge values aim at, kept as a fixed floor.

const CASES: { name: string; hex: string; verdict: string }[] = [
  { name: 'empty file', hex: '', verdict: 'accepted' },
  {
    name: '47 bytes',
    hex: '0101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101',
    verdict: 'truncated-header',
  },
  {
    name: 'a legacy header alone (data size 0 means 2048 bytes)',
    hex: '010000000000000000000000000000000000000001000000000000000000000000000000000000000000000000000000',
    verdict: 'truncated-file',
  },
  {
    name: 'total size 0xffffffff',
    hex: '0100000000000000000000000000000000000000010000000000000004000000ffffffff00000000000000000000000000000000',
    verdict: 'truncated-file',
  },
  {
    name: 'zero total size with a nonzero data size',
    hex: '01000000000000000000000000000000000000000100000000000000040000000000000000000000000000000000000000000000',
    verdict: 'totalsize-too-small',
  },
  {
    name: 'data size 0xfffffffc in a 48-byte total (48 + data overflows 32 bits)',
    hex: '01000000000000000000000000000000000000000100000000000000fcffffff30000000000000000000000000000000',
    verdict: 'bad-size',
  },
  {
    name: 'an extended table of 19 bytes',
    hex: '01000000000000000000000000000000b3ffffff010000000000000004000000470000000000000000000000000000000000000000000000000000000000000000000000000000',
    verdict: 'ext-table-truncated',
  },
  {
    name: 'extended count 0xffffffff in a 20-byte table',
    hex: '01000000000000000000000000000000b2ffffff0100000000000000040000004800000000000000000000000000000000000000ffffffff00000000000000000000000000000000',
    verdict: 'ext-table-size-mismatch',
  },
  {
    // 0x40000001 * 12 + 20 is the table size (32) modulo 2^32: a 32-bit computation would accept the
    // size and then walk 2^30 entries past the table. Checksums are sealed so only the count is wrong.
    name: 'extended count 0x40000001, whose size wraps 32 bits to the real table size',
    hex: '01000000000000000000000000000000a6ffffff010000000000000004000000540000000000000000000000000000000000000001000040ffffffbf000000000000000000000000000000000000000000000000',
    verdict: 'ext-table-size-mismatch',
  },
  {
    name: 'a valid blob and 3 trailing bytes',
    hex: '010000000200000025200101d1060a00703cbacd01000000ff000000080000003800000000000000000000000000000019460c513e552ee0010203',
    verdict: 'truncated-header',
  },
  {
    name: 'a valid blob, then a second one cut inside its data',
    hex: '010000000200000025200101d1060a00703cbacd01000000ff000000080000003800000000000000000000000000000019460c513e552ee0010000000200000025200101d1060a00703cbacd01000000ff00000008000000380000000000000000000000000000001946',
    verdict: 'truncated-file',
  },
  {
    // The checksum covers whole dwords only; the next blob then starts at an odd offset.
    name: 'a 5-byte data size, then a valid blob at an unaligned offset',
    hex: '010000000500000000000000d1060a00edf8f5ff010000000100000005000000350000000000000000000000000000000000000000010000000300000025200101d1060a00b591e8ad01000000ff000000040000003400000000000000000000000000000019460c51',
    verdict: 'accepted',
  },
];

describe('fuzz regressions: fixed inputs at the edges of the size arithmetic', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.verdict}`, () => {
      const bytes = fromHex(c.hex);
      const scan = scanFile(bytes);
      if (c.verdict === 'accepted') expect(scan.error).toBeUndefined();
      else {
        expect(scan.error).toBeInstanceOf(MicrocodeFormatError);
        expect(scan.error!.kind).toBe(c.verdict);
      }
      expect(checkFormatCase(bytes, { deep: true, simulate: true })).toBeUndefined();
    });
  }
});
