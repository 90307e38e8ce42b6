import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli, runBuiltCli } from '../support/built-cli.js';

// A campaign on worker threads, or cut into shards and merged, gives exactly
// the report of one unsplit run (only the wall time and the command line differ).

const dir = mkdtempSync(join(tmpdir(), 'ucode-campaign-par-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(requireBuiltCli);

const RUN = ['campaign', '--runs', '300', '--seed', '9', '--offline-rate', '0.3', '--check-every', '7'];

function report(path: string): Record<string, unknown> {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  return { ...json, wallMs: 0, command: '' };
}

describe('campaign --jobs, --shard and merge', () => {
  let whole: Record<string, unknown>;

  beforeAll(() => {
    const r = runBuiltCli([...RUN, '--jobs', '1', '--json', join(dir, 'one.json')]);
    expect(r.status).toBe(0);
    whole = report(join(dir, 'one.json'));
  });

  it('--jobs 3 gives the report of --jobs 1', () => {
    const r = runBuiltCli([...RUN, '--jobs', '3', '--json', join(dir, 'three.json')]);
    expect(r.status).toBe(0);
    expect(report(join(dir, 'three.json'))).toEqual(whole);
  });

  it('shards merged give the report of the unsharded run', () => {
    const parts = [0, 1, 2, 3].map((k) => join(dir, `part-${k}.json`));
    for (const [k, part] of parts.entries()) {
      const r = runBuiltCli([...RUN, '--shard', `${k}/4`, '--json', part]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`shard ${k}/4: runs \\d+\\.\\.\\d+ of 300`));
    }
    const merged = runBuiltCli(['campaign', 'merge', ...parts.reverse(), '--json', join(dir, 'merged.json')]);
    expect(merged.status).toBe(0);
    expect(report(join(dir, 'merged.json'))).toEqual(whole);
  });

  it('merge refuses a missing shard, a foreign part and a file that is not a part', () => {
    const parts = [0, 1, 2].map((k) => join(dir, `part-${k}.json`));
    let r = runBuiltCli(['campaign', 'merge', ...parts]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot merge: runs 225\.\.299 are in no part/);
    const other = join(dir, 'other.json');
    expect(
      runBuiltCli(['campaign', '--runs', '300', '--seed', '10', '--shard', '3/4', '--json', other]).status,
    ).toBe(0);
    r = runBuiltCli(['campaign', 'merge', ...parts, other]);
    expect(r.stderr).toMatch(/cannot merge: parts of different campaigns/);
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"schema":"something-else"}');
    r = runBuiltCli(['campaign', 'merge', junk]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not a campaign part/);
  });

  it('--shard needs --json and refuses K out of range', () => {
    expect(runBuiltCli(['campaign', '--shard', '0/2']).stderr).toMatch(/--shard needs --json/);
    expect(runBuiltCli(['campaign', '--shard', '2/2', '--json', '-']).stderr).toMatch(
      /--shard K must be within 0\.\.1/,
    );
  });
});
