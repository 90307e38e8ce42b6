import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli, runBuiltCli } from '../support/built-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ucode-sim-'));
beforeAll(requireBuiltCli);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('simulate: the built binary', () => {
  it('the default run prints the kernel log byte for byte (golden) and a summary, exit 0', () => {
    const r = runBuiltCli(['simulate', '--synthetic'], {
      env: { UCODE_STAGING_FIRMWARE_DIR: join(dir, 'none') },
    });
    expect(r.status).toBe(0);
    const golden = readFileSync('test/golden/default-dmesg.txt', 'utf8');
    expect(r.stdout).toContain(golden);
    expect(r.stdout).toMatch(/machine gnr-2s \(512 CPUs\)/);
    expect(r.stdout).toContain('synthetic');
    expect(r.stderr).toBe('');
  });

  it('with no firmware folder it says it used a synthetic image', () => {
    const r = runBuiltCli(['simulate', '-q'], { env: { UCODE_STAGING_FIRMWARE_DIR: join(dir, 'missing') } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`image: synthetic (no ${join(dir, 'missing', '06-ad-01')})`);
    expect(r.stdout).not.toContain('microcode: Enabled staging feature.');
  });

  it('writes every output file, each complete', () => {
    const out = join(dir, 'out');
    mkdirSync(out, { recursive: true });
    const files = ['r.json', 't.json', 'm.txt', 'r.html'].map((f) => join(out, f));
    const r = runBuiltCli([
      'simulate',
      '-m',
      'up',
      '--image-size',
      '64K',
      '--json',
      files[0]!,
      '--trace',
      files[1]!,
      '--mmiotrace',
      files[2]!,
      '--report',
      files[3]!,
    ]);
    expect(r.status).toBe(0);
    const result = JSON.parse(readFileSync(files[0]!, 'utf8'));
    expect(result.schema).toBe('ucode-staging/result@2');
    expect(result.outcome).toBe('updated');
    expect(JSON.parse(readFileSync(files[1]!, 'utf8')).traceEvents.length).toBeGreaterThan(10);
    expect(readFileSync(files[2]!, 'utf8')).toMatch(/^VERSION 20070824\n/);
    expect(readFileSync(files[3]!, 'utf8')).toMatch(/^<!doctype html>/i);
    for (const f of files) expect(r.stderr).toContain(`wrote ${f}`);
  });

  it('records the trace for each output that carries it, and only then (the summary needs none)', () => {
    const out = join(dir, 'trace-outputs');
    mkdirSync(out, { recursive: true });
    const base = ['simulate', '-m', 'up', '--image-size', '16K'];
    const json = (args: string[]) => JSON.parse(runBuiltCli([...base, ...args, '--json', '-']).stdout);
    expect(json([]).trace.spans.length).toBeGreaterThan(3);
    expect(json(['--json-omit', 'trace']).omitted).toEqual(['trace']);

    const trace = join(out, 't.json');
    expect(runBuiltCli([...base, '--trace', trace]).status).toBe(0);
    const events = JSON.parse(readFileSync(trace, 'utf8')).traceEvents as { cat?: string }[];
    expect(events.some((e) => e.cat === 'staging')).toBe(true);

    const report = join(out, 'r.html');
    expect(runBuiltCli([...base, '--report', report]).status).toBe(0);
    expect(readFileSync(report, 'utf8')).toContain('stage package 0');

    // Without those outputs the run records no spans: the summary is the same either way.
    const plain = runBuiltCli(base);
    const withTrace = runBuiltCli([...base, '--trace', join(out, 't2.json')]);
    expect(plain.stdout).toBe(withTrace.stdout);
  });

  it('--json - prints the result on stdout only', () => {
    const r = runBuiltCli(['simulate', '-m', 'up', '--image-size', '16K', '--json', '-']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).machine.name).toBe('up');
  });

  it('exit 1 when the load fails; 1 when staging=require aborts', () => {
    const fail = runBuiltCli([
      'simulate',
      '-m',
      'up',
      '--image-size',
      '16K',
      '--cpu-fault',
      '0=apply-rejected',
    ]);
    expect(fail.status).toBe(1);
    expect(fail.stdout).toContain('microcode: update failed: 1 CPUs failed 0 CPUs timed out');
    const aborted = runBuiltCli([
      'simulate',
      '-m',
      'up',
      '--image-size',
      '16K',
      '--staging',
      'require',
      '--fault',
      'never-ready@0',
    ]);
    expect(aborted.status).toBe(1);
    expect(aborted.stdout).toContain('microcode: Error: staging failed (-110) for CPU0 at package 0.');
  });

  it('same seed, same JSON; another seed can differ', () => {
    const args = [
      'simulate',
      '-m',
      'up',
      '--image-size',
      '64K',
      '--profile',
      'limited-cache:cacheChunks=2,rerequestProbability=0.3',
      '--json',
      '-',
    ];
    const a = runBuiltCli([...args, '--seed', '5']).stdout;
    const b = runBuiltCli([...args, '--seed', '5']).stdout;
    const c = runBuiltCli([...args, '--seed', '6']).stdout;
    expect(a).toBe(b);
    expect(JSON.parse(a).staging.resends).not.toBe(JSON.parse(c).staging.resends);
  });

  const usage: [string, string[], RegExp][] = [
    ['unknown preset', ['simulate', '-m', 'nosuch'], /unknown machine preset 'nosuch'/],
    ['unknown option', ['simulate', '--frobnicate'], /unknown option '--frobnicate'/],
    ['bad staging value', ['simulate', '--staging', 'maybe'], /--staging must be one of auto, off, require/],
    [
      'missing firmware folder',
      ['simulate', '-f', '/nonexistent/intel-ucode'],
      /firmware '\/nonexistent\/intel-ucode' does not exist/,
    ],
    ['bad fault', ['simulate', '--fault', 'gremlins@2'], /bad --fault 'gremlins@2'/],
    [
      'fault on a package that does not exist',
      ['simulate', '--fault', '7=never-ready'],
      /package 7 does not exist/,
    ],
    ['bad seed', ['simulate', '--seed', '-3'], /--seed/],
    [
      'output folder missing',
      ['simulate', '-m', 'up', '--json', '/nonexistent/dir/r.json'],
      /folder '\/nonexistent\/dir' does not exist/,
    ],
    ['unknown command', ['simulat'], /unknown command 'simulat'/],
  ];
  for (const [name, args, message] of usage) {
    it(`usage error: ${name} → one line, exit 2, no stack`, () => {
      const r = runBuiltCli(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('malformed machine files name the problem', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "packages": 2, ');
    let r = runBuiltCli(['simulate', '-m', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not valid JSON/);
    const zero = join(dir, 'zero.yaml');
    writeFileSync(zero, 'extends: gnr-2s\npackages: 0\n');
    r = runBuiltCli(['simulate', '-m', zero]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/machine field 'packages'/);
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ extends: 'up', sockets: 2 }));
    r = runBuiltCli(['simulate', '-m', unknown]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/sockets/);
  });

  it('a YAML machine file extending a preset runs', () => {
    const f = join(dir, 'm.yaml');
    writeFileSync(f, 'extends: gnr-2s\nname: tiny\ncoresPerPackage: 2\n');
    const r = runBuiltCli(['simulate', '-m', f, '--image-size', '16K', '-q']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('machine tiny (8 CPUs)');
  });

  it('refuses a bad output path before the run, leaving the other outputs untouched', () => {
    const target = join(dir, 'keep.json');
    writeFileSync(target, 'old');
    const r = runBuiltCli([
      'simulate',
      '-m',
      'up',
      '--image-size',
      '16K',
      '--json',
      target,
      '--trace',
      join(dir, 'no', 't.json'),
    ]);
    expect(r.status).toBe(2);
    // Every output path is checked before the run: nothing ran, nothing was written.
    expect(r.stdout).toBe('');
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });
});

describe('compare: the built binary', () => {
  it('prints off/on with the reduction, exit 0', () => {
    const r = runBuiltCli(['compare', '-m', 'up', '--image-size', '256K']);
    expect(r.status).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith('default'))!;
    expect(row).toMatch(/\d+\.\d%/);
  });

  it('sweeps image sizes: the reduction grows with size', () => {
    const r = runBuiltCli(['compare', '-m', 'up', '--sweep', 'image-size=64K,1M', '--json', '-']);
    expect(r.status).toBe(0);
    const points = JSON.parse(r.stdout).points;
    expect(points).toHaveLength(2);
    expect(points[1].stopWindowReductionPct).toBeGreaterThan(points[0].stopWindowReductionPct);
  });
});

describe('examples', () => {
  it('examples/flaky-mailbox.yaml: package 1 times out after re-sends, the load falls back', () => {
    const r = runBuiltCli(['simulate', '-m', 'examples/flaky-mailbox.yaml', '--synthetic', '--json', '-']);
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.staging.errno).toBe(-110);
    expect(result.staging.failedPackage).toBe(1);
    expect(result.staging.resends).toBeGreaterThan(0);
    expect(result.outcome).toBe('updated');
  });
});

describe('simulate -f FILE', () => {
  it('installs one microcode file under the CPU name and reports it by path', async () => {
    const { buildMicrocode } = await import('../../src/format/index.js');
    const file = join(dir, 'my-update.bin');
    writeFileSync(
      file,
      buildMicrocode({
        signature: 0xa06d1,
        processorFlags: 0x01,
        revision: 0x10003b0,
        dataSize: 8192,
        minRequiredRevision: 1,
      }),
    );
    const r = runBuiltCli(['simulate', '-m', 'up', '-f', file, '-q']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`image       ${file}: revision 0x10003b0`);
    expect(r.stdout).toContain('revision    0x10003a2 -> 0x10003b0');
  });
});
