import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsHostReader } from '../../src/cli/probe-host-reader.js';
import { type ProbeReport, resolveMachine, simulate } from '../../src/index.js';
import { hostRoot, probeCli, probeFixture } from './run-probe.js';

const tmp = mkdtempSync(join(tmpdir(), 'ucode-probe-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const withoutRoot = (r: ProbeReport): Omit<ProbeReport, 'root'> => {
  const { root: _root, ...rest } = r;
  return rest;
};

describe('probe CLI', () => {
  it('--save copies exactly the files read; --root on the copy gives the same report', async () => {
    const save = join(tmp, 'saved');
    const first = await probeCli('--root', hostRoot('ready-2s'), '--json', '--save', save);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^saved \d+ files under /);
    const replay = await probeFixture('ready-2s');
    const again = await probeCli('--root', save, '--json');
    expect(again.code).toBe(0);
    expect(withoutRoot(JSON.parse(again.stdout) as ProbeReport)).toEqual(withoutRoot(replay.report));
    // The reload file is saved as an empty file; the msr device as registers at their offsets.
    expect(readFileSync(join(save, 'sys/devices/system/cpu/microcode/reload')).length).toBe(0);
    const msr = readFileSync(join(save, 'dev/cpu/0/msr'));
    expect(msr.readBigUInt64LE(0x10a)).toBe(0x100ebn);
    expect(msr.readBigUInt64LE(0x7b)).toBe(0x10n);
  });

  it('--save refuses a folder that is not empty, and anything under /proc or /sys', async () => {
    const full = join(tmp, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'x'), 'x');
    for (const [dir, text] of [
      [full, 'not empty'],
      ['/proc/ucode-probe', 'refusing'],
      ['/sys', 'refusing'],
    ] as const) {
      const run = await probeCli('--root', hostRoot('vm-guest'), '--save', dir);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(text);
    }
  });

  it('--machine-out writes a machine file that simulate() loads, and the run matches the prediction', async () => {
    const out = join(tmp, 'machine.json');
    const run = await probeCli('--root', hostRoot('interleaved-2s'), '--json', '--machine-out', out);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ProbeReport;
    const machine = JSON.parse(readFileSync(out, 'utf8'));
    expect(machine).toEqual(report.machine);
    const spec = resolveMachine(machine);
    expect(spec.numbering).toEqual({ packages: 'interleaved', smt: 'last' });
    const firmware = new Uint8Array(
      readFileSync(join(hostRoot('interleaved-2s'), 'lib/firmware/intel-ucode/06-ad-01')),
    );
    const r = simulate({ machine, firmware, seed: 1, trace: false });
    expect(r.stopWindow?.durationNs).toBe(report.prediction?.withStaging?.stopWindowNs);
    expect(r.staging.packages.length).toBe(8);
  });

  it('--machine-out follows the rules of every output: checked before the probe, devices kept', async () => {
    const missing = await probeCli(
      '--root',
      hostRoot('ready-2s'),
      '--machine-out',
      join(tmp, 'no', 'm.json'),
    );
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/--machine-out/);
    const dev = await probeCli('--root', hostRoot('ready-2s'), '--machine-out', '/dev/null');
    expect(dev.code).toBe(0);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('--cost and --hz reach the prediction and are named in its assumptions', async () => {
    const base = await probeFixture('no-root');
    const { report } = await probeFixture('no-root', '--cost', 'applyUnstagedBaseNs=5000000', '--hz', '250');
    expect(report.prediction!.withoutStaging.stopWindowNs!).toBeGreaterThan(
      base.report.prediction!.withoutStaging.stopWindowNs!,
    );
    expect(report.prediction!.withStaging!.stagingNs).toBeGreaterThan(
      base.report.prediction!.withStaging!.stagingNs,
    );
    expect(report.prediction!.assumptions).toContain('applyUnstagedBaseNs=5000000');
    expect(report.prediction!.assumptions).toContain('HZ 250 (given)');
    expect(report.machine?.cost).toMatchObject({ hz: 250, applyUnstagedBaseNs: 5000000 });
  });

  it('--firmware DIR replaces the kernel search and is named in the report', async () => {
    const { report } = await probeFixture(
      'odd-up',
      '--firmware',
      join(hostRoot('ready-2s'), 'lib/firmware/intel-ucode'),
    );
    expect(report.verdict.kind).toBe('safe');
    expect(report.update?.file).toBe(join(hostRoot('ready-2s'), 'lib/firmware/intel-ucode/06-ad-01'));
  });

  it('bad usage and an unreadable root exit 2 with one line', async () => {
    for (const [args, text] of [
      [['--root', join(tmp, 'nowhere')], 'cannot read root'],
      [['--root', join(hostRoot('ready-2s'), 'proc/cmdline')], 'is not a folder'],
      [['--root', tmp], 'nothing to probe'],
      [['--cost', 'bogus=1'], 'unknown cost parameter'],
      [['--hz', '123'], '--hz must be one of'],
      [['--frobnicate'], "unknown option '--frobnicate'"],
      [['--root', ''], 'expects a value'],
    ] as const) {
      const run = await probeCli(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(text);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('--help', async () => {
    const run = await probeCli('--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('usage: ucode-staging probe');
  });
});

describe('the host reader', () => {
  const root = join(tmp, 'odd-root');
  mkdirSync(join(root, 'proc'), { recursive: true });
  mkdirSync(join(root, 'dev/cpu/0'), { recursive: true });
  writeFileSync(join(root, 'proc/big'), Buffer.alloc(2048));
  writeFileSync(join(root, 'proc/config.gz'), 'not gzip');
  writeFileSync(join(root, 'dev/cpu/0/msr'), Buffer.alloc(0x112));
  execFileSync('mkfifo', [join(root, 'proc/fifo')]);
  writeFileSync(join(tmp, 'outside.txt'), 'not the host');
  symlinkSync(join(tmp, 'outside.txt'), join(root, 'proc/escape'));
  const reader = new FsHostReader(root);

  it('refuses a FIFO without opening it (no hang), caps sizes, reports bad gzip', () => {
    expect(reader.readFile('/proc/fifo', { maxBytes: 100 })).toEqual({
      kind: 'unreadable',
      reason: 'a FIFO',
    });
    expect(reader.readFile('/proc/big', { maxBytes: 1024 })).toEqual({
      kind: 'unreadable',
      reason: 'larger than 1024 bytes',
    });
    expect(reader.readFile('/proc/big', { maxBytes: 4096 }).kind).toBe('file');
    expect(reader.readFile('/proc/config.gz', { maxBytes: 4096, gunzip: true })).toEqual({
      kind: 'unreadable',
      reason: 'not gzip data',
    });
    expect(reader.readFile('/proc/missing', { maxBytes: 10 })).toEqual({ kind: 'missing' });
  });

  it('keeps host paths inside the root, symlinks included', () => {
    expect(reader.readFile('/proc/../../../etc/hostname', { maxBytes: 100 })).toEqual({ kind: 'missing' });
    expect(reader.readFile('/proc/escape', { maxBytes: 100 })).toEqual({
      kind: 'unreadable',
      reason: 'the path leaves the root',
    });
  });

  it('reads MSRs from a saved msr file by offset; past its end is "does not exist"', () => {
    const e = reader.readMsrs(0, [0x10a, 0x7a5]);
    expect(e.kind).toBe('msr');
    if (e.kind !== 'msr') return;
    expect(e.registers.get(0x10a)).toBe(0n);
    expect(e.registers.get(0x7a5)).toBe('input/output error (the MSR does not exist)');
    expect(reader.readMsrs(1, [0x10a])).toEqual({ kind: 'missing' });
  });
});
