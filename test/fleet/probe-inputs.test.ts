import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsHostReader } from '../../src/cli/probe-host-reader.js';
import { inventoryRow } from '../../src/fleet/inventory.js';
import { syntheticImage } from '../../src/fleet/jobs.js';
import { FleetPlanner, jobFailure } from '../../src/fleet/planner.js';
import { readProbeDocument } from '../../src/fleet/summary.js';
import { collectHostFiles, probeHost, resolveMachine, syntheticImageFor } from '../../src/index.js';
import { VERDICT_KINDS } from '../../src/probe/verdict.js';
import { FLEET_FIXTURES, HOST_TREES } from './helpers.js';

const PROBES = join(FLEET_FIXTURES, 'probes');
const BAD = join(FLEET_FIXTURES, 'bad-probes');

function probeFleet(): FleetPlanner {
  const planner = new FleetPlanner({ keepHosts: true });
  for (const f of readdirSync(PROBES).sort()) {
    const name = f.replace(/\.json$/, '');
    planner.addProbeReport(readFileSync(join(PROBES, f), 'utf8'), { file: f, line: null }, name);
  }
  return planner;
}

describe('fleet from probe reports', () => {
  it('the generated fleet covers every verdict, and reads Ansible --tree and pssh -o files as they are', () => {
    const planner = probeFleet();
    const r = planner.report();
    expect(r.inputs.problems).toBe(0);
    expect(r.inputs.hosts).toBe(readdirSync(PROBES).length);
    for (const kind of VERDICT_KINDS) expect(r.verdicts[kind], kind).toBeGreaterThan(0);
    // ansible-web-07 holds ready-2s's report in `stdout`: the same shape as the six rack1 hosts.
    const ready = r.shapes.find((s) => s.examples.includes('rack1-01'))!;
    expect(ready.hosts).toBe(8); // six rack1, mixed-01 (the same summary), ansible-web-07
    expect(ready.examples).toContain('ansible-web-07');
    const spr = r.shapes.find((s) => s.examples.includes('spr-01'))!;
    expect(spr.examples).toContain('pssh-db-01');
    expect(spr.staging.support).toBe('not-supported');
  });

  it('the host whose unstaged apply takes 1.2 s is at risk: a failed staging would panic', () => {
    const r = probeFleet().report();
    expect(r.risks['fallback-panic'].hosts).toBe(1);
    const shape = r.shapes.find((s) => s.risks.includes('fallback-panic'))!;
    expect(shape.examples).toEqual(['slowapply-01']);
    expect(shape.verdict.kind).toBe('safe');
    expect(shape.planned!.run).toBe('with-staging');
    expect(shape.fallback!.outcome).toBe('panic');
    // Last of the safe hosts in the rollout.
    const orders = r.shapes.filter((s) => s.rollout.planned).map((s) => s.rollout.order!);
    expect(shape.rollout.order).toBe(Math.max(...orders));
  });

  it('revisions and signatures are hex strings, as in every JSON of the project', () => {
    const r = probeFleet().report();
    for (const s of r.shapes) {
      for (const v of [s.signature, s.revision, s.update?.revision])
        if (v !== null && v !== undefined) expect(v).toMatch(/^0x[0-9a-f]+$/);
    }
  });

  it('bad files are skipped with their file, the line of a JSON syntax error and the field at fault', () => {
    const planner = new FleetPlanner();
    for (const f of readdirSync(BAD).sort())
      expect(planner.addProbeReport(readFileSync(join(BAD, f), 'utf8'), { file: f, line: null }, f)).toBe(
        false,
      );
    const r = planner.report();
    expect(r.inputs.hosts).toBe(0);
    const byFile = Object.fromEntries(r.problems.map((p) => [p.file, p]));
    expect(byFile['empty.json']!.message).toBe('empty file (the host gave no output)');
    expect(byFile['truncated.json']!.line).toBeGreaterThan(10);
    expect(byFile['truncated.json']!.message).toMatch(/^not valid JSON/);
    expect(byFile['other-schema.json']!.message).toMatch(
      /^not a probe report \(schema ucode-staging\/result@1\): schema: /,
    );
    expect(byFile['wrong-field.json']!.message).toMatch(
      /^not a probe report \(schema ucode-staging\/probe@1\): verdict\.kind: /,
    );
    expect(byFile['ansible-unreachable']!.message).toBe(
      'an Ansible result without probe output (unreachable): Failed to connect to the host via ssh: Connection timed out',
    );
  });

  it('readProbeDocument takes JSON with a syntax error on a given line', () => {
    expect(readProbeDocument('{\n  "schema": \n}')).toMatchObject({ line: 3 });
  });
});

describe('fleet from saved probe trees', () => {
  const trees = readdirSync(HOST_TREES).filter((d) => !d.endsWith('.mjs'));

  it("a tree's summary is its probe report's: probe JSON and tree of each host make one shape", () => {
    const planner = new FleetPlanner();
    for (const tree of trees) {
      const files = collectHostFiles(new FsHostReader(join(HOST_TREES, tree)));
      planner.addHostFiles(files, { file: tree, line: null }, `${tree} (tree)`);
      const { report } = probeHost(files, { root: '/' });
      planner.addProbeReport(JSON.stringify(report), { file: `${tree}.json`, line: null }, `${tree} (json)`);
    }
    // Equal trees run once: fewer model jobs than trees with a prediction.
    const jobs = planner.pendingJobs().length;
    planner.runPending();
    const r = planner.report();
    expect(r.inputs.problems).toBe(0);
    for (const s of r.shapes) {
      expect(s.sources, s.examples.join(', ')).toEqual(['probe-json', 'probe-tree']);
      expect(s.hosts % 2).toBe(0);
    }
    expect(r.inputs.simulated).toBe(jobs);
  });

  it('with --firmware, trees use that folder, as probe --firmware does', () => {
    const planner = new FleetPlanner();
    const dir = join(FLEET_FIXTURES, 'inventory/firmware');
    const files = collectHostFiles(new FsHostReader(join(HOST_TREES, 'ready-2s'), dir), {
      firmwareFolderOnly: true,
    });
    planner.addHostFiles(files, { file: 'ready-2s', line: null }, 'ready', { firmwareFolderOnly: true });
    planner.runPending();
    const [shape] = planner.report().shapes;
    const { report } = probeHost(files, { root: '/', firmwareDir: dir });
    expect(shape!.verdict.summary).toBe(report.verdict.summary);
    expect(shape!.prediction!.withStaging!.stopWindowNs).toBe(report.prediction!.withStaging!.stopWindowNs);
  });
});

describe('synthetic images', () => {
  it('are syntheticImageFor() byte for byte, whatever the revision (patched from one build)', () => {
    for (const preset of ['gnr-2s', 'spr-2s']) {
      const spec = resolveMachine(preset);
      for (const revision of [
        spec.initialRevision,
        0,
        1,
        7,
        spec.initialRevision - 5,
        0xffffff00,
        0xfffffff0,
      ]) {
        const cpu = { ...spec, initialRevision: revision >>> 0 };
        expect(
          Buffer.from(syntheticImage(cpu)).equals(Buffer.from(syntheticImageFor(cpu))),
          `${preset} ${revision}`,
        ).toBe(true);
      }
    }
  });
});

describe('a model job that fails', () => {
  it('skips its hosts, reported where they were first seen; a bug says so', () => {
    const planner = new FleetPlanner();
    const row = inventoryRow({ host: 'web', count: 3, machine: 'up' }, 7);
    if ('message' in row) throw new Error(row.message);
    planner.addInventoryRow(row, 'inv.csv', {
      label: 'up',
      machineId: 'up',
      machine: 'up',
      image: { kind: 'synthetic' },
    });
    const key = planner.pendingJobs()[0]!.key;
    planner.fail(key, jobFailure('TypeError', 'x is undefined\n    at somewhere'));
    const r = planner.report();
    expect(r.inputs.hosts).toBe(0);
    expect(r.inputs.sources.inventory).toBe(0);
    expect(r.problems).toEqual([
      {
        file: 'inv.csv',
        line: 7,
        message:
          "3 hosts skipped: the model run failed: TypeError: x is undefined (a bug in ucode-staging: please report it with this host's file)",
      },
    ]);
    expect(jobFailure('SimulationLimitError', 'too many CPUs\nmore')).toBe('too many CPUs');
  });
});
