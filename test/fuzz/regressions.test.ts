import { describe, expect, it } from 'vitest';
import { MicrocodeFormatError, scanFile } from '../../src/format/index.js';
import { checkFormatCase } from './check.js';
import { fromHex, kernelScan } from './oracle.js';

// Inputs the fuzzers must keep handling. A crash or disagreement found by
// format-fuzz.test.ts goes here as its minimized hex, with the verdict the
// kernel's rules give. So far (docs/reliability.md) the fuzzers found no crash,
// no untyped exception and no accepted bad checksum; the cases below are the
// boundary inputs that the fuzzers' edge values aim at, kept as a fixed floor,
// and the places where the kernel's 32- and 64-bit arithmetic differs from plain
// arithmetic.

/**
 * `verdict` is the project's; `kernel` is Linux's (kernelScan) where it differs:
 * `reads-past-blob` when its verdict depends on memory past the blob.
 */
const CASES: { name: string; hex: string; verdict: string; kernel?: string }[] = [
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
    // The kernel's 48 + data size is 44 (int arithmetic), leaving a 4-byte "extended table".
    name: 'data size 0xfffffffc in a 48-byte total',
    hex: '01000000000000000000000000000000000000000100000000000000fcffffff30000000000000000000000000000000',
    verdict: 'bad-size',
    kernel: 'ext-table-truncated',
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
  // exttable_size() returns an unsigned int, so count * 12 + 20 wraps modulo 2^32: a count of
  // 0x40000001 declares the 32 bytes of a one-entry table, and the kernel goes on to the
  // checksums. Its entry loop then runs past the table (and the blob): we refuse there with the
  // kernel's likely message (docs/format.md). Before the model wrapped, all of these said
  // ext-table-size-mismatch.
  {
    name: 'count 0x40000001 in a one-entry table, every checksum sealed',
    hex: '010000000200000001202501d1060a00743c96cd01000000ff000000080000005800000000000000000000000000000019460c513e552ee001000040bbbb5ff2000000000000000000000000a006090002000000a23d97cd',
    verdict: 'ext-signature-checksum',
    kernel: 'reads-past-blob',
  },
  {
    name: 'count 0x40000001 in a one-entry table whose reserved dword breaks the table checksum',
    hex: '010000000200000001202501d1060a00743c96cd01000000ff000000080000005800000000000000000000000000000019460c513e552ee001000040bbbb5ff2010000000000000000000000a006090002000000a23d97cd',
    verdict: 'ext-table-checksum',
  },
  {
    name: 'count 0x40000001 in a sealed one-entry table, a data dword flipped',
    hex: '010000000200000001202501d1060a00743c96cd01000000ff000000080000005800000000000000000000000000000018460c513e552ee001000040bbbb5ff2000000000000000000000000a006090002000000a23d97cd',
    verdict: 'data-checksum',
  },
  {
    name: 'count 0x40000001 whose one entry inside the table does not match the header',
    hex: '010000000200000001202501d1060a00743c96cd01000000ff000000080000005800000000000000000000000000000019460c513e552ee001000040abbb5ff2000000000000000000000000b006090002000000a23d97cd',
    verdict: 'ext-signature-checksum',
  },
  {
    name: 'count 0x40000000 in a 20-byte table (no entries), sealed: the first entry is already past the blob',
    hex: '010000000200000001202501d1060a00803c96cd01000000ff000000080000004c00000000000000000000000000000019460c513e552ee000000040000000c0000000000000000000000000',
    verdict: 'ext-signature-checksum',
    kernel: 'reads-past-blob',
  },
  {
    name: 'count 0xc0000002 in a sealed two-entry table',
    hex: '010000000200000001202501d1060a00683c96cd01000000ff000000080000006400000000000000000000000000000019460c513e552ee0020000c08e77bfa4000000000000000000000000a006090002000000963d97cda106090002000000953d97cd',
    verdict: 'ext-signature-checksum',
    kernel: 'reads-past-blob',
  },
  // The kernel reads the data size through an int widened to 64 bits: from 0xffffffd0 up,
  // 48 + data size wraps to 0..47, its size rule passes, and it takes the rest of the blob from
  // that offset (inside the header) as the extended table. We refuse all of them as bad-size.
  {
    name: 'data size 0xfffffffc, total 64: the kernel takes the reserved dword (0) as the count of a 20-byte table and accepts',
    hex: '010000000200000000000000d1060a00eef8f5ff0100000001000000fcffffff4000000000000000000000000000000000000000000000000000000000000000',
    verdict: 'bad-size',
    kernel: 'accepted',
  },
  {
    name: 'data size 0xffffffd0, total 56: the kernel reads the table from offset 0 (count = header version 1)',
    hex: '01000000000000000000000000000000000000000100000000000000d0ffffff380000000000000000000000000000000000000000000000',
    verdict: 'bad-size',
    kernel: 'ext-table-size-mismatch',
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
      const kernel = kernelScan(bytes);
      expect(kernel.error?.kind ?? 'accepted').toBe(c.kernel ?? c.verdict);
      expect(checkFormatCase(bytes, { deep: true, simulate: true })).toBeUndefined();
    });
  }
});
