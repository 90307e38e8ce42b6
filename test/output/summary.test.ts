import { describe, expect, it } from 'vitest';
import { grouped, ms3 } from '../../src/output/format.js';
import { formatSummary } from '../../src/output/summary.js';
import { cloneResult, run, SCENARIO_NAMES } from './fixtures.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

function line(text: string, label: string): string {
  const found = text.split('\n').find((l) => l.startsWith(label));
  if (found === undefined) throw new Error(`no '${label}' line in:\n${text}`);
  return found;
}

describe('formatSummary', () => {
  it('states the machine, image, staging passes, stop window, revisions and outcome', () => {
    const r = run('gnr-2s');
    const text = formatSummary(r);
    expect(line(text, 'machine')).toContain(
      'gnr-2s: 512 CPUs (512 online), 2 packages x 128 cores x 2 threads',
    );
    expect(line(text, 'image')).toContain(`revision 0x${r.image!.revision.toString(16)}`);
    expect(line(text, 'image')).toContain(`${grouped(r.image!.totalSize)} bytes`);
    expect(line(text, 'image')).toContain('synthetic');
    const staging = line(text, 'staging');
    expect(staging).toContain('ok: 2 passes');
    expect(staging).toContain(`${grouped(r.staging.bytesSent)} bytes in ${grouped(r.staging.chunks)} chunks`);
    expect(staging).toContain(`${ms3(r.staging.durationNs)} ms`);
    // One table row per pass: pass, package, CPU, mailbox, bytes, chunks, re-sends, polls, time, errno.
    const rows = text
      .split('\n')
      .filter((l) => /^\s+[12] /.test(l))
      .map((l) => l.trim().split(/\s+/));
    expect(rows).toEqual([
      ['1', '0', '0', '0xfed20000', '1,670,144', '408', '0', '408', '816.000', '0'],
      ['2', '1', '128', '0xfed21000', '1,670,144', '408', '0', '408', '815.995', '0'],
    ]);
    expect(line(text, 'stop window')).toBe(
      `stop window ${ms3(r.stopWindow!.durationNs)} ms (512 CPUs stopped)`,
    );
    expect(ms3(r.stopWindow!.durationNs)).toMatch(/^\d+\.\d{3}$/);
    const apply = line(text, 'apply');
    const primaries = r.cpus.filter((c) => c.primary).map((c) => c.applyEndNs - c.applyStartNs);
    expect(apply).toContain(`primary threads ${ms3(Math.min(...primaries))}`);
    expect(apply).toContain('256 MSR 0x79 writes, 256 used the staged copy');
    expect(line(text, 'revision')).toBe('revision    0x10003a2 -> 0x10003f0');
    expect(line(text, 'outcome')).toBe('outcome     updated, reload returned 0');
    expect(line(text, 'taint')).toBe('taint       none');
    expect(text).not.toMatch(ANSI);
  });

  it('aligns labels in one column', () => {
    const text = formatSummary(run('up'));
    // After the opening sentence and a blank line, every line is a labelled row.
    for (const l of text.trimEnd().split('\n').slice(2)) {
      if (!l.startsWith(' ')) expect(l).toMatch(/^[a-z][a-z ]{11}\S/);
    }
    expect(text.endsWith('\n')).toBe(true);
  });

  it('reports a failed staging pass with its errno, CPU and package', () => {
    const r = run('never-ready at transaction 3');
    const text = formatSummary(r);
    const staging = line(text, 'staging');
    expect(staging).toContain('FAILED -ETIMEDOUT (-110) on CPU0 package 0');
    expect(staging).toContain('fell back to the ordinary late load');
    expect(text).toMatch(/^\s+1\s+0\s+0\s+0xfed20000\s+16,384\s+4\s+0\s+10,003\s+\S+\s+-110$/m);
    expect(line(text, 'apply')).toContain('0 used the staged copy');
  });

  it('says why nothing was staged', () => {
    expect(line(formatSummary(run('spr-2s (no staging)')), 'staging')).toContain(
      'not attempted (the CPU does not enumerate staging)',
    );
    expect(line(formatSummary(run('staging off')), 'staging')).toContain(
      'not attempted (policy staging=off)',
    );
  });

  it('shows a hang, a partial load and taint', () => {
    const hang = formatSummary(run('CPU never arrives (hang)'));
    expect(line(hang, 'stop window')).toContain('none');
    expect(line(hang, 'outcome')).toContain('hang');
    const partial = run('apply rejected, one CPU offline');
    const text = formatSummary(partial);
    expect(line(text, 'outcome')).toBe(`outcome     partial, reload returned ${partial.returnCode} (-EIO)`);
    expect(line(text, 'cpus')).toContain('failed 2');
    expect(line(text, 'taint')).toContain(partial.tainted ? 'TAINT_CPU_OUT_OF_SPEC' : 'none');
  });

  it('shortens a long pass table and totals packages staged more than once', () => {
    const r = cloneResult(run('gnr-2s'));
    const [a, b] = r.staging.packages;
    r.staging.packages = Array.from({ length: 40 }, (_, i) => ({ ...(i % 2 ? b! : a!), cpu: i }));
    const text = formatSummary(r);
    expect(text).toContain('... 24 more passes ...');
    expect(text).toContain(`package 0 staged 20 times (${grouped(20 * a!.bytesSent)} bytes)`);
    expect(text.split('\n').filter((l) => /^\s+\d+\s+[01]\s+\d+\s+0xfed2/.test(l)).length).toBe(16);
  });

  it.each(SCENARIO_NAMES)('colours only on request: %s', (name) => {
    const r = run(name);
    const plain = formatSummary(r);
    const coloured = formatSummary(r, { color: true });
    expect(coloured).toMatch(ANSI);
    expect(coloured.replace(ANSI, '')).toBe(plain);
  });
});

describe('the opening sentence', () => {
  it('says how long the CPUs stand still, rounded, with the assumptions', async () => {
    const { simulate } = await import('../../src/sim/simulate.js');
    const { headline, roughDuration } = await import('../../src/output/headline.js');
    expect(headline(simulate())).toBe(
      'All 512 CPUs stand still for about 62 ms (model estimate: HZ 1000, kernel 6.12+, default cost model; staging ran 1.6 s beforehand, outside that window).',
    );
    const panic = simulate({ syntheticImageBytes: 16 * 1024 * 1024, policy: { staging: 'off' } });
    expect(headline(panic)).toBe(
      'The machine panics: Microcode load: Primary CPU 0 timed out. The write to reload never returns.',
    );
    const aborted = simulate({
      machine: 'up',
      syntheticImageBytes: 16384,
      policy: { staging: 'require' },
      faults: [{ value: { kind: 'never-ready' } }],
    });
    expect(headline(aborted)).toMatch(/^The CPUs were never stopped: the load was aborted/);
    expect(formatSummary(aborted)).not.toMatch(/never all released|reload returned 0/);
    expect(roughDuration(1_632_005_000)).toBe('1.6 s');
    expect(roughDuration(80_000_000_000)).toBe('80 s');
    expect(roughDuration(62_157_000)).toBe('62 ms');
  });
});
