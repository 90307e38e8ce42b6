import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildMicrocode, concatBlobs, FORMAT_ERROR_KINDS } from '../../src/format/index.js';
import { firmwareDir, firmwareSkipReason } from '../format/fixtures.js';
import { type CaseOptions, checkFormatCase } from './check.js';
import {
  type CorpusFile,
  FUZZ_CASES,
  FUZZ_SEED,
  minimize,
  mutate,
  Rng,
  realCorpus,
  syntheticCorpus,
} from './mutate.js';
import { oracleScan, toHex } from './oracle.js';

// Bad microcode files, everywhere the library reads one: scanFile, the late-load
// selection, the inspect report, the single-blob check, and a whole simulated
// late load. FUZZ_CASES (default 200,000, about 25 s on a 2-CPU machine;
// 1,000,000 for `npm run fuzz`) is split across the tests below, the split
// chosen so that each generator gets a similar share of the time: the real files
// (110 KB on average) run about 4,000 cases/s, the others 12,000-28,000. A failure prints the minimized input as hex: add it to
// regressions.test.ts.

const REAL = realCorpus(firmwareDir);
const SYNTHETIC = syntheticCorpus();
const share = (fraction: number) => Math.max(100, Math.round(FUZZ_CASES * fraction));
const timeoutFor = (cases: number) => 60_000 + cases * 5;

/** Checks the shallow verdicts on every case, the deep ones on every 10th, a simulated load on every 200th small one. */
function optionsFor(i: number, input: Uint8Array): CaseOptions {
  return { deep: i % 10 === 0, simulate: i % 200 === 0 && input.length <= 64 * 1024 };
}

function fail(label: string, i: number, input: Uint8Array, why: string, opts: CaseOptions): never {
  const min = minimize(input, (b) => checkFormatCase(b, opts) !== undefined);
  throw new Error(
    `${label}, case ${i}: ${why}\nminimal input (${min.length} bytes, gives: ${checkFormatCase(min, opts)}):\n${toHex(min)}`,
  );
}

function report(label: string, cases: number, startMs: number): void {
  const s = (performance.now() - startMs) / 1000;
  console.log(`fuzz ${label}: ${cases} cases in ${s.toFixed(1)} s (${Math.round(cases / s)} cases/s)`);
}

/**
 * Pick files uniformly by name (the few 1.6 MB server files do not dominate the
 * time); returns how often each verdict came up, so a test can see every check reached.
 */
function runMutations(label: string, corpus: CorpusFile[], cases: number, seed: number): Map<string, number> {
  const rng = new Rng(seed);
  const start = performance.now();
  const verdicts = new Map<string, number>();
  for (let i = 0; i < cases; i++) {
    const base = rng.pick(corpus).bytes;
    const donor = rng.pick(corpus).bytes;
    const input = mutate(base, rng, donor);
    const opts = optionsFor(i, input);
    const oracle = oracleScan(input);
    const why = checkFormatCase(input, opts, oracle);
    if (why) fail(label, i, input, why, opts);
    const verdict = oracle.error?.kind ?? 'accepted';
    verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
    if (oracle.deviation) verdicts.set(oracle.deviation, (verdicts.get(oracle.deviation) ?? 0) + 1);
  }
  report(label, cases, start);
  console.log(
    `  verdicts: ${[...verdicts]
      .sort()
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  return verdicts;
}

/** Every verdict of the kernel's walk, and acceptance. */
const ALL_VERDICTS: string[] = ['accepted', ...FORMAT_ERROR_KINDS];
const kernelVerdicts = (verdicts: Map<string, number>): string[] =>
  [...verdicts.keys()].filter((k) => ALL_VERDICTS.includes(k)).sort();

describe('fuzz: microcode files', () => {
  it('the oracle and the library agree on every unmodified file', () => {
    for (const f of [...SYNTHETIC, ...REAL])
      expect(checkFormatCase(f.bytes, { deep: true }), f.name).toBeUndefined();
  });

  const realCases = share(0.35);
  it.skipIf(REAL.length === 0)(
    `mutations of the real Intel files (${REAL.length ? `${realCases} cases` : firmwareSkipReason})`,
    () => {
      const verdicts = runMutations('real-file mutations', REAL, realCases, FUZZ_SEED);
      expect(kernelVerdicts(verdicts)).toEqual([...ALL_VERDICTS].sort());
    },
    timeoutFor(realCases),
  );

  const syntheticCases = share(REAL.length ? 0.25 : 0.6);
  it(
    `mutations of synthetic files (${syntheticCases} cases)`,
    () => {
      const verdicts = runMutations('synthetic mutations', SYNTHETIC, syntheticCases, FUZZ_SEED + 1);
      // The mutations reach every check the kernel makes, not only the first ones,
      // and both places where we refuse more than the kernel.
      expect(kernelVerdicts(verdicts)).toEqual([...ALL_VERDICTS].sort());
      expect(verdicts.get('reads-past-blob')).toBeGreaterThan(0);
      expect(verdicts.get('negative-data-size')).toBeGreaterThan(0);
    },
    timeoutFor(syntheticCases),
  );

  const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
  const edge = fc.constantFrom(
    0,
    1,
    4,
    20,
    32,
    47,
    48,
    2000,
    2048,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffc,
    0xffff_ffff,
    0x4000_0001,
  );
  const field = fc.oneof(u32, edge);

  const structuredCases = share(0.2);
  it(
    `fast-check: built images with fields overridden, truncated or extended (${structuredCases} cases)`,
    () => {
      const start = performance.now();
      let i = 0;
      fc.assert(
        fc.property(
          fc.record({
            dataSize: fc.integer({ min: 1, max: 300 }).map((n) => n * 4),
            ext: fc.array(fc.record({ signature: u32, processorFlags: u32 }), { maxLength: 4 }),
            overrides: fc.array(
              fc.tuple(
                fc.integer({ min: 0, max: 80 }).map((n) => n * 4),
                field,
              ),
              { maxLength: 3 },
            ),
            cut: fc.option(fc.integer({ min: 0, max: 1400 })),
            tail: fc.uint8Array({ maxLength: 96 }),
            blobs: fc.integer({ min: 1, max: 3 }),
          }),
          (c) => {
            const one = buildMicrocode({
              signature: 0xa06d1,
              revision: 0x200,
              dataSize: c.dataSize,
              extendedSignatures: c.ext,
              minRequiredRevision: 1,
            });
            let file = concatBlobs(...Array.from({ length: c.blobs }, () => one), c.tail);
            const view = new DataView(file.buffer);
            for (const [at, value] of c.overrides) if (at + 4 <= file.length) view.setUint32(at, value, true);
            if (c.cut !== null) file = file.slice(0, c.cut);
            const opts = optionsFor(i++, file);
            const why = checkFormatCase(file, opts);
            if (why) throw new Error(`${why}\ninput: ${toHex(file)}`);
          },
        ),
        { numRuns: structuredCases, seed: FUZZ_SEED },
      );
      report('fast-check structured', structuredCases, start);
    },
    timeoutFor(structuredCases),
  );

  const rawCases = share(0.2);
  it(
    `fast-check: random bytes, and random headers with plausible sizes (${rawCases} cases)`,
    () => {
      const start = performance.now();
      let i = 0;
      const header = fc
        .tuple(
          fc.array(field, { minLength: 12, maxLength: 12 }),
          fc.uint8Array({ maxLength: 2200 }),
          fc.boolean(),
        )
        .map(([dwords, body, versions]) => {
          const file = new Uint8Array(48 + body.length);
          const view = new DataView(file.buffer);
          for (const [k, d] of dwords.entries()) view.setUint32(k * 4, d, true);
          if (versions) {
            view.setUint32(0, 1, true);
            view.setUint32(20, 1, true);
          }
          file.set(body, 48);
          return file;
        });
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 4096 }), header), (file) => {
          const opts = optionsFor(i++, file);
          const why = checkFormatCase(file, opts);
          if (why) throw new Error(`${why}\ninput: ${toHex(file)}`);
        }),
        { numRuns: rawCases, seed: FUZZ_SEED + 2 },
      );
      report('fast-check raw', rawCases, start);
    },
    timeoutFor(rawCases),
  );
});
