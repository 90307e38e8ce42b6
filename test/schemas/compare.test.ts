import { describe, expect, it } from 'vitest';
import { compare, compareJson } from '../../src/index.js';
import { CompareJson } from '../../src/schemas/index.js';
import { cli, expectValid } from './support.js';

// Real comparisons against the compare@1 schema.

describe('compare@1: real comparisons validate', () => {
  it('a sweep over image size, machine, HZ, kernel, profile and poll', () => {
    const report = compare(
      {
        machine: 'up',
        cpuFaults: [{ cpu: 0, kind: 'late-to-stop-machine', delayNs: 1000 }],
        trace: false,
      },
      {
        sweep: [
          { key: 'image-size', values: [8192, 20000] },
          { key: 'machine', values: ['up', { extends: 'up', threadsPerCore: 2 }], labels: ['up', 'up-smt'] },
          { key: 'hz', values: [250, 1000] },
          { key: 'kernel', values: ['pre-6.12'] },
          { key: 'profile', values: [{ kind: 'ideal' }, { kind: 'slow', chunkNs: 2e6 }] },
          { key: 'poll', values: ['msleep', 'fine'] },
        ],
      },
    );
    const doc = expectValid(CompareJson, compareJson(report), 'sweep') as { points: { params: object }[] };
    expect(doc.points).toHaveLength(32);
    expect(Object.keys(doc.points[0]!.params)).toEqual([
      'image-size',
      'machine',
      'hz',
      'kernel',
      'profile',
      'poll',
    ]);
  });

  it('runs that never return: a panic (16 MB unstaged on gnr-2s) and a hang (returnCode and stop window null)', () => {
    const panic = expectValid(
      CompareJson,
      compareJson(compare({ machine: 'gnr-2s', syntheticImageBytes: 16 * 1024 * 1024, trace: false })),
      'panic',
    ) as { points: { off: { outcome: string; returnCode: number | null } }[] };
    expect(panic.points[0]!.off).toMatchObject({ outcome: 'panic', returnCode: null });
    const hang = expectValid(
      CompareJson,
      compareJson(
        compare({
          machine: 'up',
          syntheticImageBytes: 8192,
          cpuFaults: [{ cpu: 0, kind: 'never-reaches-stop-machine' }],
        }),
      ),
      'hang',
    ) as { points: { on: { outcome: string; stopWindowNs: number | null } }[] };
    expect(hang.points[0]!.on).toMatchObject({ outcome: 'hang', stopWindowNs: null });
  });

  it('through the CLI: compare --sweep --json -', async () => {
    const run = await cli(
      'compare',
      '-m',
      'up',
      '--sweep',
      'image-size=8K,16K',
      '--sweep',
      'hz=250,1000',
      '--json',
      '-',
    );
    expect(run.stderr).toBe('');
    const doc = expectValid(CompareJson, run.stdout, 'compare CLI') as { points: unknown[] };
    expect(doc.points).toHaveLength(4);
  });
});
