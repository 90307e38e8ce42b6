import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildFleetReport,
  type FleetSettings,
  type ShapeAccum,
  waveOf,
  waveSizeOf,
  weightedStats,
} from '../../src/fleet/analysis.js';
import type { HostSummary } from '../../src/fleet/summary.js';
import { figures, summary } from './helpers.js';

function accum(s: HostSummary, hosts: number): ShapeAccum {
  return {
    summary: s,
    hosts,
    examples: [`h${hosts}`],
    firstSeen: { file: 'f', line: 1 },
    sources: new Set(['inventory']),
  };
}

function report(shapes: [HostSummary, number][], settings: FleetSettings = {}) {
  return buildFleetReport(
    shapes.map(([s, n]) => accum(s, n)),
    settings,
    {
      simulated: shapes.length,
      sources: { 'probe-json': 0, 'probe-tree': 0, inventory: 0 },
      problems: [],
      problemCount: 0,
    },
  );
}

describe('fleet statistics', () => {
  it('min, median, p99 and max by nearest rank over host counts', () => {
    expect(
      weightedStats([
        { value: 100, hosts: 1 },
        { value: 1, hosts: 50 },
        { value: 2, hosts: 49 },
      ]),
    ).toEqual({ hosts: 100, minNs: 1, medianNs: 1, p99Ns: 2, maxNs: 100 });
    expect(weightedStats([{ value: 5, hosts: 1 }])).toEqual({
      hosts: 1,
      minNs: 5,
      medianNs: 5,
      p99Ns: 5,
      maxNs: 5,
    });
    expect(weightedStats([])).toBeNull();
  });

  it('the same as sorting every host one by one', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ value: fc.integer({ min: 0, max: 1e9 }), hosts: fc.integer({ min: 1, max: 50 }) }),
          { minLength: 1, maxLength: 30 },
        ),
        (items) => {
          const all = items.flatMap((i) => Array<number>(i.hosts).fill(i.value)).sort((a, b) => a - b);
          const at = (p: number) => all[Math.max(1, Math.ceil(p * all.length)) - 1]!;
          expect(weightedStats(items)).toEqual({
            hosts: all.length,
            minNs: all[0],
            medianNs: at(0.5),
            p99Ns: at(0.99),
            maxNs: all[all.length - 1],
          });
        },
      ),
    );
  });
});

describe('risks', () => {
  it('a host that stages, whose unstaged fallback panics, is at risk of a panic if staging fails', () => {
    const { report: r } = report([[summary({ unstaged: figures(null) }), 3]]);
    expect(r.shapes[0]!.risks).toEqual(['fallback-panic']);
    expect(r.shapes[0]!.fallback!.outcome).toBe('panic');
    expect(r.risks['fallback-panic']).toEqual({ hosts: 3, shapes: [1] });
    // Still in the rollout: the panic needs a staging failure.
    expect(r.rollout.hosts).toBe(3);
  });

  it('a host that does not stage has no fallback; its own panic is its verdict (aborted), not a risk', () => {
    const { report: r } = report([[summary({ staged: null, unstaged: figures(100e6) }), 1]]);
    expect(r.shapes[0]!.fallback).toBeNull();
    expect(r.shapes[0]!.risks).toEqual([]);
  });

  it('a stop window over the budget is held back; an unstaged fallback over it is a risk', () => {
    const { report: r } = report(
      [
        [summary({ staged: figures(12e9) }), 2],
        [summary({ staged: figures(5e9), unstaged: figures(11e9), model: 'b' }), 1],
      ],
      { pauseBudgetNs: 10e9 },
    );
    expect(r.shapes.map((s) => s.risks)).toEqual([['over-budget'], ['fallback-over-budget']]);
    expect(r.shapes[0]!.rollout).toMatchObject({ planned: false, heldBack: 'over-budget' });
    expect(r.rollout.heldBack).toEqual({ taints: 0, 'over-budget': 2 });
    expect(r.rollout.hosts).toBe(1);
  });

  it('a budget of its own is said to be set for this plan', () => {
    const { report: r } = report([[summary({}), 1]], { pauseBudgetNs: 2e9 });
    expect(r.settings.pauseBudgetSource).toBe('set for this plan with --pause-budget');
  });

  it('with the default budget, the settings say where 10 s comes from', () => {
    const { report: r } = report([[summary({}), 1]]);
    expect(r.settings.pauseBudgetNs).toBe(10e9);
    expect(r.settings.pauseBudgetSource).toMatch(/Azure .* less than 10 seconds/);
  });

  it('unknown staging support plans the unstaged run (the longer one) and has no fallback', () => {
    const { report: r } = report([[summary({ thisHost: 'unknown' }), 1]]);
    expect(r.shapes[0]!.planned!.run).toBe('without-staging');
    expect(r.shapes[0]!.fallback).toBeNull();
  });
});

describe('rollout', () => {
  it('safest first: safe before unsafe, no risk before a fallback risk, then the shortest stop window', () => {
    const { report: r } = report(
      [
        [summary({ kind: 'unsafe', staged: figures(1e6) }), 1],
        [summary({ staged: figures(9e6), unstaged: figures(null), model: 'risky' }), 1],
        [summary({ staged: figures(3e6), model: 'slow' }), 1],
        [summary({ staged: figures(2e6), model: 'fast' }), 1],
      ],
      { includeUnsafe: true, wave: { hosts: 1 } },
    );
    const order = [...r.shapes].sort((a, b) => a.rollout.order! - b.rollout.order!).map((s) => s.model);
    expect(order).toEqual(['fast', 'slow', 'risky', 'test']);
    expect(r.rollout.waves).toBe(4);
  });

  it('without --include-unsafe, hosts that taint are held back', () => {
    const { report: r } = report([
      [summary({ kind: 'unsafe' }), 4],
      [summary({ model: 'b' }), 6],
    ]);
    expect(r.rollout.hosts).toBe(6);
    expect(r.rollout.heldBack.taints).toBe(4);
    expect(r.shapes[0]!.rollout.heldBack).toBe('taints');
  });

  it('waves hold at most the wave size, cover every planned host once, and agree with each host wave', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            hosts: fc.integer({ min: 1, max: 400 }),
            stop: fc.integer({ min: 1, max: 1e8 }),
            reload: fc.integer({ min: 1, max: 1e10 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.oneof(
          fc.record({ hosts: fc.integer({ min: 1, max: 150 }) }),
          fc.record({ share: fc.double({ min: 0.001, max: 1, noNaN: true }) }),
        ),
        fc.integer({ min: 0, max: 1e9 }),
        (items, wave, gap) => {
          const { report: r, placed } = report(
            items.map((i, k) => [
              summary({ staged: figures(i.stop, { reloadNs: i.reload }), model: `m${k}` }),
              i.hosts,
            ]),
            { wave, waveGapNs: gap },
          );
          const total = items.reduce((n, i) => n + i.hosts, 0);
          const size = waveSizeOf(wave, total);
          expect(r.rollout.waveSize).toBe(size);
          expect(r.rollout.waves).toBe(Math.ceil(total / size));
          // Each wave's make-up from the groups, and from each host's own wave.
          const fromGroups = new Map<string, number>();
          let expectedWall = 0;
          for (const g of r.rollout.groups) {
            expect(g.hostsPerWave).toBeLessThanOrEqual(size);
            expect(g.shapes.reduce((n, s) => n + s.hosts, 0)).toBe(g.hostsPerWave);
            const wall = Math.max(...g.shapes.map((s) => r.shapes[s.shape - 1]!.planned!.reloadNs));
            expect(g.wallNsEach).toBe(wall);
            expectedWall += (g.last - g.first + 1) * wall;
            for (let w = g.first; w <= g.last; w++)
              for (const s of g.shapes)
                fromGroups.set(`${w}:${s.shape}`, (fromGroups.get(`${w}:${s.shape}`) ?? 0) + s.hosts);
          }
          const fromHosts = new Map<string, number>();
          for (const s of r.shapes) {
            const at = placed.get(s.id)!;
            for (let k = 0; k < s.hosts; k++) {
              const key = `${waveOf(at, k, size)}:${s.id}`;
              fromHosts.set(key, (fromHosts.get(key) ?? 0) + 1);
            }
          }
          expect(fromHosts).toEqual(fromGroups);
          expect(r.rollout.reloadNs).toBe(expectedWall);
          expect(r.rollout.wallNs).toBe(expectedWall + (r.rollout.waves - 1) * gap);
        },
      ),
      { numRuns: 200 },
    );
  });
});
