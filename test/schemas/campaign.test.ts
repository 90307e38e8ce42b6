import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCampaignCommand } from '../../src/cli/campaign.js';
import type { CliIo } from '../../src/cli/io.js';
import {
  type CampaignSpace,
  campaignJson,
  DEFAULT_SPACE,
  runCampaign,
  runCampaignSlice,
  type SimulateFn,
  simulate,
  toJson,
} from '../../src/index.js';
import { CAMPAIGN_SCHEMA, CampaignJson, CampaignPartJson } from '../../src/schemas/index.js';
import { cli, expectValid } from './support.js';

// Real campaign reports and parts against campaign@2 and campaign-part@1.

const dir = mkdtempSync(join(tmpdir(), 'ucode-schemas-campaign-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Broken on purpose (as test/reliability does): it claims aborted loads updated, so runs fail. */
const broken: SimulateFn = (opts) => {
  const r = simulate(opts);
  if (r.outcome === 'aborted') r.outcome = 'updated';
  return r;
};

interface FailingJson {
  replay: string[] | null;
  machineFile: Record<string, unknown> | null;
}

describe('campaign@2: real reports validate', () => {
  it('failing runs with their machine files: a random machine (hex signature) and a preset with package flags', () => {
    const space: CampaignSpace = {
      ...DEFAULT_SPACE,
      machines: [{ kind: 'preset', name: 'up' }, { kind: 'random' }],
      faults: ['mailbox-absent', 'never-ready', 'none'],
      policies: ['require'],
      profiles: [
        { kind: 'exact', profile: { kind: 'slow', chunkNs: 1000 } },
        { kind: 'family', family: 'ideal' },
      ],
    };
    const report = runCampaign({ space, runs: 30, seed: 4, simulate: broken });
    const doc = expectValid(CampaignJson, campaignJson(report, space, 'campaign (library)'), 'library') as {
      failing: FailingJson[];
    };
    const files = doc.failing.map((f) => f.machineFile).filter((m) => m !== null);
    expect(files.some((m) => 'extends' in m)).toBe(true);
    const random = files.find((m) => !('extends' in m));
    expect(random?.signature).toMatch(/^0x[0-9a-f]+$/);
    // Without the machine files written, a replay that needs one is null.
    expect(doc.failing.some((f) => f.replay === null)).toBe(true);
  });

  it('through the CLI, with --failing (replays name the machine files written)', async () => {
    let stderr = '';
    const io: CliIo = { stdout: () => {}, stderr: (s) => (stderr += s), isTTY: false, env: {} };
    const json = join(dir, 'campaign.json');
    const code = await makeCampaignCommand({ simulate: broken })(
      [
        '--runs',
        '40',
        '--seed',
        '2',
        '--policies',
        'require',
        '--failing',
        join(dir, 'failing.txt'),
        '--json',
        json,
      ],
      io,
    );
    expect(code, stderr).toBe(1);
    const doc = expectValid(CampaignJson, readFileSync(json, 'utf8'), 'campaign CLI') as {
      schema: string;
      failing: FailingJson[];
    };
    expect(doc.failing.length).toBeGreaterThan(0);
    expect(doc.failing.every((f) => f.replay !== null)).toBe(true);
    expect(doc.schema).toBe(CAMPAIGN_SCHEMA);
  });

  it('shards: each part, and the report `campaign merge` makes of them', async () => {
    const parts = [0, 1].map((k) => join(dir, `part-${k}.json`));
    for (const [k, path] of parts.entries()) {
      const run = await cli(
        'campaign',
        '--runs',
        '24',
        '--seed',
        '9',
        '--shard',
        `${k}/2`,
        '--jobs',
        '1',
        '--json',
        path,
      );
      expect(run.code, run.stderr).toBe(0);
      expectValid(CampaignPartJson, readFileSync(path, 'utf8'), `part ${k}`);
    }
    const merged = await cli('campaign', 'merge', ...parts, '--json', '-');
    expect(merged.code, merged.stderr).toBe(0);
    expectValid(CampaignJson, merged.stdout, 'merge');
  });

  it('a part from the library, with failing runs, as the CLI writes it (toJson)', () => {
    const space: CampaignSpace = { ...DEFAULT_SPACE, policies: ['require'] };
    const part = runCampaignSlice({ space, runs: 40, seed: 2, simulate: broken }, 10, 30);
    expect(part.failingCount).toBeGreaterThan(0);
    expectValid(CampaignPartJson, toJson(part), 'library part');
  });
});
