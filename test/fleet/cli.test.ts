import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FleetReport } from '../../src/index.js';
import { FLEET_FIXTURES, fleetCli, HOST_TREES } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ucode-fleet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const INVENTORY = join(FLEET_FIXTURES, 'inventory/fleet.csv');
const LAB = join(FLEET_FIXTURES, 'inventory/lab.yaml');
const PROBES = join(FLEET_FIXTURES, 'probes');

describe('fleet CLI: inventories', () => {
  it('skips every bad row with its file and line, plans the rest, and writes JSON, CSV and HTML', async () => {
    const json = join(tmp, 'inv.json');
    const csv = join(tmp, 'inv.csv');
    const html = join(tmp, 'inv.html');
    const run = await fleetCli(INVENTORY, LAB, '--json', json, '--csv', csv, '--report', html);
    expect(run.code).toBe(1);
    const skipped = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('ucode-staging fleet: skipped '))
      .map((l) => /(fleet\.csv|lab\.yaml):(\d+): /.exec(l)?.slice(1, 3).join(':'));
    expect(skipped).toEqual([
      'fleet.csv:15',
      'fleet.csv:16',
      'fleet.csv:17',
      'fleet.csv:18',
      'fleet.csv:19',
      'fleet.csv:20',
      'fleet.csv:21',
      'fleet.csv:22',
      'fleet.csv:23',
      'fleet.csv:25',
      'lab.yaml:15',
      'lab.yaml:18',
      'lab.yaml:19',
    ]);
    expect(run.stderr).toContain("fleet.csv:18: machine: unknown machine preset 'gnr-3s'");
    expect(run.stderr).toContain('fleet.csv:22: machine: machine file');

    const r = JSON.parse(readFileSync(json, 'utf8')) as FleetReport;
    expect(r.schema).toBe('ucode-staging/fleet@1');
    expect(r.inputs).toMatchObject({ hosts: 97, problems: 13 });
    expect(r.verdicts).toEqual({
      safe: 78,
      unsafe: 11,
      'refused-minrev': 1,
      aborted: 1,
      'no-update': 4,
      'cannot-late-load': 2,
      'not-applicable': 0,
      unknown: 0,
    });
    const shapeOf = (example: string) => r.shapes.find((s) => s.examples.includes(example))!;
    expect(shapeOf('batch-1').risks).toEqual(['fallback-panic']);
    expect(shapeOf('big-1').risks).toEqual(['over-budget']);
    expect(shapeOf('big-1').planned!.stopWindowNs).toBeGreaterThan(10e9);
    expect(shapeOf('big-1').planned!.outcome).toBe('updated');
    expect(shapeOf('edge-01').verdict.kind).toBe('refused-minrev');
    expect(shapeOf('old-1').verdict.kind).toBe('unsafe'); // 6.1: no minimum-revision check
    expect(shapeOf('cache-1').planned!.run).toBe('without-staging'); // 6.12: no staging step
    expect(shapeOf('cache-1').kernel).toEqual({ release: '6.12.9', hz: 250, hasStaging: false });
    expect(shapeOf('offline-01').verdict.kind).toBe('aborted');
    expect(shapeOf('icx-1').verdict.summary).toMatch(/^no update: no .*06-6a-06/);
    expect(shapeOf('planned-1').update!.imageBytes).toBe(1_670_144); // no firmware: synthetic
    expect(shapeOf('lab-spr-1').revision).toBe('0x2c000390');

    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(
      'host,file,line,shape,verdict,taints,signature,revision,new_revision,run,stop_window_ms,stop_window_staged_ms,stop_window_unstaged_ms,staging_ms,reload_ms,risks,wave,held_back',
    );
    expect(lines).toHaveLength(98);
    expect(lines[1]).toMatch(/^web-1,.*fleet\.csv,3,1,safe,no,0xa06d1,0x10003a2,0x10004a2,with-staging,/);
    expect(lines.find((l) => l.startsWith('"quoted, name",'))).toBeDefined();
    const waves = lines
      .slice(1)
      .map((l) => l.split(',').at(-2)!)
      .filter((w) => w !== '');
    expect(waves).toHaveLength(r.rollout.hosts);
    expect(Math.max(...waves.map(Number))).toBe(r.rollout.waves);
    expect(lines.filter((l) => l.endsWith(',taints'))).toHaveLength(r.rollout.heldBack.taints);

    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).not.toMatch(/<script|https?:\/\//);
  });

  it('--strict stops at the first bad row: exit 2, its file and line', async () => {
    const run = await fleetCli(INVENTORY, '--strict');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /fleet\.csv:15: hz: expected one of 100, 250, 300, 1000, got "123" \(--strict\)\n$/,
    );
    expect(run.stdout).toBe('');
  });

  it('--json - writes the JSON alone on standard output', async () => {
    const run = await fleetCli(LAB, '--json', '-');
    expect(run.code).toBe(1);
    const r = JSON.parse(run.stdout) as FleetReport;
    expect(r.inputs.hosts).toBe(4);
    expect(r.shapes.map((s) => s.verdict.kind).sort()).toEqual(['safe', 'unsafe']);
  });

  it('prints a summary a person reads in one look', async () => {
    const run = await fleetCli(INVENTORY, '--pause-budget', '5s', '--wave', '20', '--wave-gap', '1m');
    expect(run.stdout).toMatch(
      /^ucode-staging fleet: 93 hosts in 13 shapes \(13 simulated; 93 inventory hosts\); 10 inputs skipped\n/,
    );
    expect(run.stdout).toContain('would load safely');
    expect(run.stdout).toMatch(/stop window {2}of the \d+ hosts that would load/);
    expect(run.stdout).toMatch(/ {2}with staging +\d+ +[\d.]+ (ms|s) /);
    expect(run.stdout).toContain('pause budget 5.000 s (set for this plan with --pause-budget)');
    expect(run.stdout).toMatch(
      /if staging fails, the unstaged load panics \(a sibling waits past 1 s\) +4 +shapes \d+ +e\.g\. batch-1, batch-2, batch-3/,
    );
    expect(run.stdout).toMatch(
      /rollout {6}\d+ hosts in \d+ waves of at most 20, safest first: .* \+ \d+ gaps of 60\.000 s = /,
    );
    expect(run.stdout).toContain('held back:');
  });
});

describe('fleet CLI: probe reports and trees', () => {
  it('reads a folder of probe reports (Ansible and pssh files included), a quoted glob and a saved tree', async () => {
    const folder = await fleetCli(PROBES, '--json', '-');
    const r = JSON.parse(folder.stdout) as FleetReport;
    expect(r.inputs.hosts).toBe(29);
    expect(r.inputs.problems).toBe(0);

    const glob = await fleetCli(join(PROBES, 'rack1-*.json'), join(HOST_TREES, 'ready-2s'));
    expect(glob.stdout).toMatch(
      /^ucode-staging fleet: 7 hosts in 1 shape \(1 simulated; 6 probe reports, 1 saved probe tree\)\n/,
    );
    // All safe, none at risk, nothing skipped: exit 0.
    expect(glob.code).toBe(0);
  });

  it('bad probe files are skipped and counted: exit 1', async () => {
    const run = await fleetCli(join(FLEET_FIXTURES, 'bad-probes'), join(PROBES, 'rack1-01.json'));
    expect(run.code).toBe(1);
    expect(run.stderr.match(/skipped .*bad-probes\//g)).toHaveLength(5);
    expect(run.stdout).toMatch(/1 host in 1 shape .*; 5 inputs skipped/);
  });

  it('nothing to plan, a missing input, bad options: exit 2 with one line', async () => {
    for (const [args, text] of [
      [[join(FLEET_FIXTURES, 'bad-probes')], 'nothing to plan: no host in 5 inputs (5 skipped)'],
      [[join(tmp, 'none.json')], "input '"],
      [[join(tmp, 'none-*.json')], 'no file matches'],
      [[PROBES, '--wave', '0'], '--wave expects a number of hosts'],
      [[PROBES, '--wave', '150%'], '--wave: a share must be above 0% and at most 100%'],
      [[PROBES, '--pause-budget', 'soon'], '--pause-budget expects a duration'],
      [[PROBES, '--pause-budget', '0'], '--pause-budget must be above 0'],
      [[PROBES, '--cost', 'warpNs=1'], "unknown cost parameter 'warpNs'"],
      [[PROBES, '--cost', 'applyStagedBaseNs=-5'], 'applyStagedBaseNs'],
      [[PROBES, '--jobs', '0'], '--jobs expects'],
      [[PROBES, '--firmware', join(tmp, 'no-such-folder')], "no-such-folder': no such file or directory"],
    ] as const) {
      const run = await fleetCli(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toContain(text);
      expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^ucode-staging fleet: /);
    }
  });

  it('refuses an output that is one of its inputs', async () => {
    const copy = join(tmp, 'one.json');
    copyFileSync(join(PROBES, 'rack1-01.json'), copy);
    const run = await fleetCli(copy, '--json', copy);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is an input of this run');
  });

  it('--help lists every option with its default', async () => {
    const run = await fleetCli('--help');
    expect(run.code).toBe(0);
    for (const o of [
      '--pause-budget',
      '--wave ',
      '--wave-gap',
      '--include-unsafe',
      '--strict',
      '--csv',
      '--report',
    ])
      expect(run.stdout).toContain(o);
    expect(run.stdout).toContain('(default 10s)');
  });
});
