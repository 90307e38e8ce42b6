import { describe, expect, it } from 'vitest';
import {
  CampaignMergeError,
  type CampaignPart,
  mergeCampaignParts,
  runCampaign,
  runCampaignSlice,
} from '../../src/campaign/run-campaign.js';
import { type CampaignSpace, DEFAULT_SPACE } from '../../src/campaign/space.js';

// --jobs and --shard split a campaign into parts; merged, they must give exactly
// the report of the unsplit run (wall time aside), whatever the split.

const SPACE: CampaignSpace = { ...DEFAULT_SPACE, cpuFaultRate: 0.3, offlineRate: 0.2 };
const o = { space: SPACE, runs: 240, seed: 5, determinismEvery: 7 };
const same = (r: ReturnType<typeof runCampaign>) => ({ ...r, wallMs: 0 });
/** Through JSON, as a shard file carries a part. */
const viaJson = (p: CampaignPart): CampaignPart => JSON.parse(JSON.stringify(p));

describe('campaign parts', () => {
  const whole = same(runCampaign(o));

  it('merge into the whole report for any split', () => {
    for (const cuts of [[120], [1, 2, 3, 239], [17, 100, 101, 200], [60, 120, 180]]) {
      const bounds = [0, ...cuts, o.runs];
      const parts = bounds.slice(1).map((end, i) => viaJson(runCampaignSlice(o, bounds[i]!, end)));
      // Order of the parts does not matter either.
      expect(same(mergeCampaignParts(parts.reverse()))).toEqual(whole);
    }
  });

  it('keeps failing runs with their drawn run, ordered by index', () => {
    const broken = {
      ...o,
      simulate: () => {
        throw new Error('boom');
      },
    };
    const parts = [viaJson(runCampaignSlice(broken, 100, 240)), viaJson(runCampaignSlice(broken, 0, 100))];
    const merged = mergeCampaignParts(parts, 50);
    expect(merged.failingCount).toBe(240);
    expect(merged.failing.map((f) => f.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(merged.failing[3]!.run.seed).toBe(merged.failing[3]!.seed);
  });

  it('refuses gaps, overlaps and parts of other campaigns', () => {
    const a = runCampaignSlice(o, 0, 100);
    const b = runCampaignSlice(o, 100, 240);
    expect(() => mergeCampaignParts([a])).toThrow(/runs 100\.\.239 are in no part/);
    expect(() => mergeCampaignParts([a, runCampaignSlice(o, 90, 240)])).toThrow(/in two parts/);
    expect(() => mergeCampaignParts([a, { ...b, seed: 6 }])).toThrow(CampaignMergeError);
    expect(() => mergeCampaignParts([a, { ...b, space: { ...SPACE, offlineRate: 0 } }])).toThrow(
      /different spaces/,
    );
  });
});
