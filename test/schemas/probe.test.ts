import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProbeJson } from '../../src/schemas/index.js';
import { HOSTS_DIR, probeCli } from '../probe/run-probe.js';
import { expectValid } from './support.js';

// `probe --json` on every replay host of test/fixtures/hosts against probe@1.

const hosts = readdirSync(HOSTS_DIR).filter((name) => statSync(join(HOSTS_DIR, name)).isDirectory());

describe('probe@1: the replay hosts validate', () => {
  it('there are hosts of every verdict to check', () => {
    expect(hosts.length).toBeGreaterThanOrEqual(14);
  });

  it.each(hosts)('%s', async (host) => {
    const run = await probeCli('--root', join(HOSTS_DIR, host), '--json');
    expect(run.code, run.stderr).not.toBe(2);
    const doc = expectValid(ProbeJson, run.stdout, host) as { exitStatus: number };
    expect(doc.exitStatus).toBe(run.code);
  });

  it('with --firmware, --hz and --cost overrides', async () => {
    const root = join(HOSTS_DIR, 'ready-2s');
    const run = await probeCli(
      '--root',
      root,
      '--firmware',
      join(root, 'lib/firmware/intel-ucode'),
      '--hz',
      '250',
      '--cost',
      'mmioWriteNs=150',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const doc = expectValid(ProbeJson, run.stdout, 'overrides') as { machine: { cost: object } };
    expect(doc.machine.cost).toMatchObject({ hz: 250, mmioWriteNs: 150 });
  });
});
