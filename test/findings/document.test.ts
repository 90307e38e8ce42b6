import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findingsDocument } from '../../src/findings/document.js';
import {
  CAMPAIGN_RUNS,
  CAMPAIGN_SEED,
  CAMPAIGN_SUMMARY,
  classifyRun,
  recordedMask,
} from '../../src/findings/index.js';

// docs/findings.md is computed from the model: when the code changes a number,
// this fails until `npm run findings` writes the document again.

const REGENERATE = 'run `npm run findings` to write it again';

/** The first line where `actual` and `expected` differ, for a message a person can act on. */
function firstDifference(actual: string, expected: string): string | undefined {
  if (actual === expected) return undefined;
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i])
      return `line ${i + 1}:\n  committed: ${a[i] ?? '(none)'}\n  computed:  ${e[i] ?? '(none)'}`;
  }
  return 'they differ';
}

describe('docs/findings.md', () => {
  it('and the machine files it names are what the code computes', { timeout: 120_000 }, () => {
    const out = findingsDocument(CAMPAIGN_SUMMARY);
    const stale: string[] = [];
    for (const [path, text] of [['docs/findings.md', out.markdown] as const, ...Object.entries(out.files)]) {
      let committed: string;
      try {
        committed = readFileSync(path, 'utf8');
      } catch {
        stale.push(`${path} is missing`);
        continue;
      }
      const diff = firstDifference(committed, text);
      if (diff) stale.push(`${path} is stale at ${diff}`);
    }
    expect(stale, `${stale.join('\n')}\n${REGENERATE}`).toEqual([]);
  });

  it("keeps the campaign the code runs (every 100th run and each class's example, classified again)", () => {
    const s = CAMPAIGN_SUMMARY;
    expect([s.runs, s.seed], REGENERATE).toEqual([CAMPAIGN_RUNS, CAMPAIGN_SEED]);
    expect(s.masks.length).toBe(2 * s.runs);
    const sample = new Set<number>();
    for (let i = 0; i < s.runs; i += 100) sample.add(i);
    for (const c of s.classes) if (c.example >= 0) sample.add(c.example);
    const differ = [...sample]
      .map((i) => ({ i, kept: recordedMask(s, i), now: classifyRun(i, s.seed) }))
      .filter((x) => x.kept !== x.now);
    expect(differ, REGENERATE).toEqual([]);
    // Each class's example is in its class.
    s.classes.forEach((c, bit) => {
      if (c.example >= 0) expect(recordedMask(s, c.example) & (1 << bit)).not.toBe(0);
    });
  });
});
