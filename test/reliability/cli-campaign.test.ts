import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultJson } from '../../src/campaign/invariants.js';
import { executeRun, type SimulateFn } from '../../src/campaign/run-campaign.js';
import { DEFAULT_SPACE, drawRun } from '../../src/campaign/space.js';
import { makeCampaignCommand } from '../../src/cli/campaign.js';
import { runCli } from '../../src/cli/run.js';
import { fromJson } from '../../src/sim/json.js';
import type { SimulationResult } from '../../src/sim/result-types.js';
import { simulate } from '../../src/sim/simulate.js';
import { requireBuiltCli, runBuiltCli } from '../support/built-cli.js';
import { captureIo } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ucode-campaign-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function campaign(...args: string[]) {
  const { io, out } = captureIo();
  const code = await runCli(['campaign', ...args], io);
  return { code, ...out() };
}

describe('campaign command', () => {
  it('prints the table, the invariant tally and exits 0 when nothing is violated', async () => {
    const r = await campaign('--runs', '300', '--seed', '1');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ucode-staging campaign --runs 300 --seed 1\n/);
    expect(r.stdout).toMatch(
      /fault +policy +runs +staged +fell back +aborted +panic +hang +endless +violated +stop p50 +p90 +p99 +max/,
    );
    expect(r.stdout).toMatch(/\nall +all +300 /);
    for (const name of [
      'terminates',
      'staged-copy-identical',
      'revisions-consistent',
      'rendezvous-timing',
      'staging-errno-matches-fault',
      'staging-limits',
      'policy-obeyed',
      'deterministic',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`${name} +\\d+ checks +0 violations`));
    }
    expect(r.stdout).toContain('endless: the kernel\nnever ends (kernel-does-not-terminate)');
    expect(r.stdout).toContain('no invariant violated');
  });

  it('the space options narrow the table', async () => {
    const r = await campaign(
      '--runs',
      '60',
      '--faults',
      'never-ready,none',
      '--policies',
      'require',
      '--hz',
      '250',
      '--machines',
      'up,random',
      '--image-size',
      '8K',
    );
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^(never-ready|none) +require/.test(l));
    expect(rows).toHaveLength(2);
  });

  it('--json FILE writes the whole report; --json - prints only JSON', async () => {
    const file = join(dir, 'report.json');
    const r = await campaign('--runs', '50', '--json', file);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`wrote ${file}\n`);
    const report = JSON.parse(readFileSync(file, 'utf8'));
    expect(report.schema).toBe('ucode-staging/campaign@2');
    expect(report.runs).toBe(50);
    expect(report.total.runs).toBe(50);
    expect(report.space.policies).toEqual(['auto', 'off', 'require']);
    const stdout = await campaign('--runs', '20', '--json', '-');
    expect(JSON.parse(stdout.stdout).runs).toBe(20);
  });

  it('draws a progress bar on a terminal only', async () => {
    const { io, out } = captureIo();
    await runCli(['campaign', '--runs', '30'], { ...io, isTTY: true });
    expect(out().stderr).toMatch(/campaign \d+\/30 \[#*\.*\]/);
  });

  it('--help', async () => {
    const r = await campaign('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: ucode-staging campaign/);
  });
});

describe('a violated invariant: exit 1 and a failing-runs file that replays each run', () => {
  // A simulator broken on purpose: it claims staging=require aborted loads succeeded.
  const broken: SimulateFn = (opts) => {
    const r = simulate(opts);
    if (r.outcome === 'aborted') r.outcome = 'updated';
    return r;
  };
  const failing = join(dir, 'failing.txt');
  let result: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    const { io, out } = captureIo();
    const code = await makeCampaignCommand({ simulate: broken })(
      ['--runs', '40', '--seed', '2', '--policies', 'require', '--failing', failing],
      io,
    );
    result = { code, ...out() };
  });

  it('exits 1 and lists the failing runs', () => {
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\d+ runs violated an invariant:/);
    expect(result.stdout).toMatch(
      /run \d+ \(seed \d+, [a-z-]+, require\): (policy-obeyed|revisions-consistent): /,
    );
    expect(result.stderr).toBe(`wrote ${failing}\n`);
  });

  it('writes each failing run: seed, violations, the simulate command and its machine file', () => {
    const text = readFileSync(failing, 'utf8');
    expect(text).toMatch(/^# ucode-staging campaign --runs 40 --seed 2 --policies require --failing /);
    const blocks = text.split('\n# run ').slice(1);
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const [head, ...rest] = block.split('\n');
      const m = /^(\d+): seed (\d+), fault ([a-z-]+), policy require$/.exec(head!);
      expect(m, head).not.toBeNull();
      const command = rest.find((l) => l.startsWith('ucode-staging simulate '))!;
      expect(command).toContain(`--seed ${m![2]}`);
      const machine = /--machine (\S+)/.exec(command)![1]!;
      if (machine.endsWith('.json')) {
        expect(machine).toBe(join(dir, `failing.run-${m![1]}.machine.json`));
        expect(JSON.parse(readFileSync(machine, 'utf8'))).toHaveProperty('packages');
      }
    }
  });

  it('the first command replays its run exactly with the built binary', () => {
    requireBuiltCli();
    const text = readFileSync(failing, 'utf8');
    const command = text.split('\n').find((l) => l.startsWith('ucode-staging simulate '))!;
    const args = command.split(' ').slice(1);
    const seed = Number(args[args.indexOf('--seed') + 1]);
    const out = runBuiltCli([...args, '--json', '-']);
    expect(out.stderr).toBe('');
    // The real simulator's result for that seed, which the broken one had misreported.
    const rec = executeRun(0, drawRun({ ...DEFAULT_SPACE, policies: ['require'] }, seed));
    expect(resultJson(fromJson(out.stdout) as SimulationResult)).toBe(resultJson(rec.result!));
  });

  it('no temporary or half-written files are left beside the failing list', () => {
    expect(existsSync(failing)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.endsWith('.probe'))).toEqual([]);
    expect(readFileSync(failing, 'utf8')).toMatch(/\n$/);
  });
});

describe('the built binary', () => {
  beforeAll(requireBuiltCli);

  it('runs a small campaign', () => {
    const r = runBuiltCli(['campaign', '--runs', '100', '--seed', '3']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('no invariant violated');
  });

  it('refuses bad options with exit 2 and one line', () => {
    const r = runBuiltCli(['campaign', '--runs', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('ucode-staging campaign: --runs must be within 1..100000000, got 0\n');
    expect(r.stdout).toBe('');
  });
});
