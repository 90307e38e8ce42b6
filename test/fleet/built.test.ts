import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetReport } from '../../src/index.js';
import { BUILT_MAIN, requireDist } from '../cli/built.js';
import { FLEET_FIXTURES, HOST_TREES } from './helpers.js';

// The built binary: the model jobs on worker threads (they need the compiled worker module)
// give the report of one thread, and a --strict stop ends the workers at once.

const dir = mkdtempSync(join(tmpdir(), 'ucode-fleet-built-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(requireDist);

function fleet(args: string[]) {
  return spawnSync(process.execPath, [BUILT_MAIN, 'fleet', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
}

const INPUTS = [
  join(FLEET_FIXTURES, 'inventory/fleet.csv'),
  join(FLEET_FIXTURES, 'inventory/lab.yaml'),
  join(FLEET_FIXTURES, 'probes'),
  HOST_TREES,
];

describe('fleet, built', () => {
  it('--jobs 3 (worker threads) gives the report and the CSV of --jobs 1', () => {
    const out = (jobs: string) => {
      const json = join(dir, `j${jobs}.json`);
      const csv = join(dir, `j${jobs}.csv`);
      const r = fleet([...INPUTS, '--jobs', jobs, '--json', json, '--csv', csv]);
      expect(r.status, r.stderr).toBe(1);
      return {
        report: JSON.parse(readFileSync(json, 'utf8')) as FleetReport,
        csv: readFileSync(csv, 'utf8'),
        stdout: r.stdout,
      };
    };
    const one = out('1');
    const three = out('3');
    expect(three.report).toEqual(one.report);
    expect(three.csv).toEqual(one.csv);
    expect(three.stdout).toEqual(one.stdout);
    // Trees, probe reports and inventory rows in one plan; the trees' shapes simulated once each.
    expect(one.report.inputs.sources['probe-tree']).toBe(14);
    expect(one.report.inputs.sources['probe-json']).toBe(29);
    expect(one.report.inputs.sources.inventory).toBe(97);
    expect(one.report.inputs.simulated).toBeLessThan(14 + 14);
  });

  it('--strict stops at the first bad input while workers run: exit 2 at once', () => {
    const started = Date.now();
    const r = fleet([
      join(FLEET_FIXTURES, 'probes'),
      join(FLEET_FIXTURES, 'bad-probes'),
      '--jobs',
      '2',
      '--strict',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /bad-probes\/ansible-unreachable: an Ansible result without probe output \(unreachable\).*\(--strict\)\n$/,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
