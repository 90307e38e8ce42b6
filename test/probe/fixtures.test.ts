import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type MachineSpecInput, type ProbeReport, simulate } from '../../src/index.js';
import { hostRoot, probeFixture } from './run-probe.js';

// Each replay host under test/fixtures/hosts (written by generate.mjs) and what the probe must
// conclude from it: the verdict, the blob, the staging walk and the model's prediction.

function firmwareOf(host: string, fms = '06-ad-01'): Uint8Array {
  return new Uint8Array(readFileSync(join(hostRoot(host), 'lib/firmware/intel-ucode', fms)));
}

/** The machine the fixture generator describes, written by hand: the prediction must equal its run. */
function gnrMachine(over: Partial<MachineSpecInput> = {}): MachineSpecInput {
  return {
    name: 'expected',
    packages: 2,
    coresPerPackage: 4,
    threadsPerCore: 2,
    signature: 0xa06d1,
    platformId: 0,
    initialRevision: 0x10003a2,
    staging: { archCapMcuEnum: true, mcuStaging: true },
    cost: { hz: 1000, kernelGeneration: '6.12+' },
    ...over,
  };
}

function expectRun(
  figures: NonNullable<ProbeReport['prediction']>['withoutStaging'] | null | undefined,
  machine: MachineSpecInput,
  firmware: Uint8Array,
  staging: 'auto' | 'off',
): void {
  const r = simulate({ machine, firmware, policy: { staging }, seed: 1, trace: false });
  expect(figures).not.toBeNull();
  expect(figures!.outcome).toBe(r.outcome);
  expect(figures!.stopWindowNs).toBe(r.stopWindow?.durationNs ?? null);
  expect(figures!.stagingNs).toBe(r.staging.durationNs);
  expect(figures!.reloadNs).toBe(r.reload.durationNs);
  expect(figures!.stagingPasses).toBe(r.staging.packages.length);
}

describe('probe on replayed hosts', () => {
  it('ready-2s: a 2-socket staging-capable host would update safely, staging each package once', async () => {
    const { code, report } = await probeFixture('ready-2s');
    expect(code).toBe(0);
    expect(report.schema).toBe('ucode-staging/probe@1');
    expect(report.verdict.kind).toBe('safe');
    expect(report.verdict.reloadReturns).toBe('0');
    expect(report.verdict.taints).toBe(false);
    expect(report.host).toMatchObject({
      vendor: 'GenuineIntel',
      signature: '0xa06d1',
      fms: '06-ad-01',
      platformId: 0,
      platformIdSource: 'sysfs',
      virtualization: 'bare-metal',
      revisions: { cpu0: '0x10003a2', uniform: true },
      topology: {
        packages: 2,
        coresPerPackage: 4,
        threadsPerCore: 2,
        present: 16,
        online: 16,
        offlineList: '',
        numbering: { packages: 'package-major', smt: 'last' },
        exact: true,
      },
      kernel: {
        release: '6.19.0-1-amd64',
        hasStaging: true,
        lateLoading: 'compiled-in',
        hz: 1000,
        reloadFile: 'present',
      },
    });
    expect(report.update).toMatchObject({
      file: '/lib/firmware/intel-ucode/06-ad-01',
      status: 'new-safe',
      currentRevision: '0x10003a2',
      blob: { index: 1, revision: '0x10004a2', date: '2025-07-23', minRequiredRevision: '0x10003a0' },
    });
    expect(report.staging).toMatchObject({
      support: 'supported',
      archCapMcuEnum: true,
      mcuStaging: true,
      passes: 2,
      passCpus: [
        { cpu: 0, package: 0 },
        { cpu: 4, package: 1 },
      ],
      mailboxes: [
        { package: 0, cpu: 0, address: '0xfed20000' },
        { package: 1, cpu: 4, address: '0xfed21000' },
      ],
    });
    expect(report.msrs.values).toContainEqual({ cpu: 0, msr: '0x10a', value: '0x100eb', problem: null });
    const p = report.prediction!;
    expect(p.hypothetical).toBeNull();
    expect(p.thisHost).toBe('with-staging');
    const fw = firmwareOf('ready-2s');
    expectRun(p.withStaging, gnrMachine(), fw, 'auto');
    expectRun(p.withoutStaging, gnrMachine(), fw, 'off');
    expect(p.withStaging!.stopWindowNs!).toBeLessThan(p.withoutStaging.stopWindowNs!);
    expect(p.assumptions).toContain('HZ 1000 (kernel config)');
    expect(p.assumptions).toContain('this exact topology');
    expect(report.machine).toMatchObject({
      packages: 2,
      coresPerPackage: 4,
      threadsPerCore: 2,
      signature: 0xa06d1,
      initialRevision: 0x10003a2,
      mailbox: { base: 0xfed20000, stride: 0x1000 },
      numbering: { packages: 'package-major', smt: 'last' },
    });
  });

  it('interleaved-2s: the walk stages a package once per primary thread', async () => {
    const { code, report } = await probeFixture('interleaved-2s');
    expect(code).toBe(0);
    expect(report.verdict.kind).toBe('safe');
    expect(report.host.topology.numbering).toEqual({ packages: 'interleaved', smt: 'last' });
    expect(report.update?.blob?.index).toBe(1);
    expect(report.staging.passes).toBe(8);
    expect(report.staging.passCpus.map((x) => x.package)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    const fw = firmwareOf('interleaved-2s');
    const machine = gnrMachine({ numbering: { packages: 'interleaved', smt: 'last' } });
    expectRun(report.prediction!.withStaging, machine, fw, 'auto');
    expect(report.prediction!.withStaging!.stagingPasses).toBe(8);
    expect(report.machine?.numbering).toEqual({ packages: 'interleaved', smt: 'last' });
  });

  it('no-staging-2s: MSR 0x7b bit 4 clear, so no staged run and no walk', async () => {
    const { code, report } = await probeFixture('no-staging-2s');
    expect(code).toBe(0);
    expect(report.verdict.kind).toBe('safe');
    expect(report.host).toMatchObject({ fms: '06-8f-08', platformId: 4 });
    expect(report.update?.blob).toMatchObject({ index: 0, revision: '0x2c0003f0' });
    expect(report.staging).toMatchObject({
      support: 'not-supported',
      archCapMcuEnum: true,
      mcuStaging: false,
      passes: null,
    });
    expect(report.prediction?.withStaging).toBeNull();
    expect(report.prediction?.thisHost).toBe('without-staging');
    const machine = gnrMachine({
      signature: 0x806f8,
      platformId: 4,
      initialRevision: 0x2c000390,
      staging: { archCapMcuEnum: true, mcuStaging: false },
    });
    expectRun(report.prediction!.withoutStaging, machine, firmwareOf('no-staging-2s', '06-8f-08'), 'off');
  });

  it('minrev-refused: microcode=force_minrev makes the kernel skip the blob (ENOENT) and names the revision', async () => {
    const { code, report } = await probeFixture('minrev-refused');
    expect(code).toBe(1);
    expect(report.verdict).toMatchObject({
      kind: 'refused-minrev',
      requiredRevision: '0x10003b0',
      reloadReturns: '-ENOENT',
    });
    expect(report.host.kernel.forceMinrev).toEqual({
      value: true,
      source: 'microcode=force_minrev on the command line',
    });
    expect(report.update).toMatchObject({
      status: 'refused-minrev',
      blob: null,
      refusedBlob: { index: 1, revision: '0x10004a2' },
    });
    expect(report.staging.passes).toBe(2);
    const p = report.prediction!;
    expect(p.hypothetical).toContain('force_minrev were off');
    expectRun(p.withStaging, gnrMachine(), firmwareOf('minrev-refused'), 'auto');
  });

  it('late-loading-off: CONFIG_MICROCODE_LATE_LOADING unset (read from /proc/config.gz)', async () => {
    const { code, report } = await probeFixture('late-loading-off');
    expect(code).toBe(1);
    expect(report.verdict.kind).toBe('cannot-late-load');
    expect(report.verdict.summary).toContain('CONFIG_MICROCODE_LATE_LOADING');
    expect(report.verdict.advice).toContain('early');
    expect(report.host.kernel).toMatchObject({
      configSource: '/proc/config.gz',
      lateLoading: 'compiled-out',
      hz: 250,
      reloadFile: 'absent',
    });
    expect(report.update?.blob?.index).toBe(1);
    expect(report.staging.passes).toBe(2);
    const p = report.prediction!;
    expect(p.hypothetical).toBe('on a kernel that can late-load');
    expectRun(
      p.withStaging,
      gnrMachine({ cost: { hz: 250, kernelGeneration: '6.12+' } }),
      firmwareOf('late-loading-off'),
      'auto',
    );
  });

  it('vm-guest: not applicable, and the host is still described', async () => {
    const { code, report } = await probeFixture('vm-guest');
    expect(code).toBe(1);
    expect(report.verdict.kind).toBe('not-applicable');
    expect(report.verdict.advice).toContain('host');
    expect(report.host.virtualization).toBe('vm-guest');
    expect(report.host.topology).toMatchObject({ packages: 1, coresPerPackage: 2, threadsPerCore: 1 });
    expect(report.update).toBeNull();
    expect(report.prediction).toBeNull();
    expect(report.staging.passes).toBe(1);
  });

  it('no-root: no msr files, staging unknown, the verdict still stands', async () => {
    const { code, report } = await probeFixture('no-root');
    expect(code).toBe(0);
    expect(report.verdict.kind).toBe('safe');
    expect(report.update?.blob?.revision).toBe('0x10004a2');
    expect(report.msrs.access).toBe('missing');
    expect(report.staging).toMatchObject({ support: 'unknown', passes: 2 });
    expect(report.staging.why).toContain('modprobe msr');
    expect(report.staging.mailboxes.every((m) => m.address === null)).toBe(true);
    expect(report.notes.some((n) => n.includes('needs root'))).toBe(true);
    const p = report.prediction!;
    expect(p.thisHost).toBe('unknown');
    expect(p.assumptions).toContain('staging bits assumed set');
    expectRun(p.withStaging, gnrMachine(), firmwareOf('no-root'), 'auto');
    expectRun(p.withoutStaging, gnrMachine(), firmwareOf('no-root'), 'off');
  });

  it('mixed-revisions: per-package revisions, CPU 0 decides, the low package is called out', async () => {
    const { code, report } = await probeFixture('mixed-revisions');
    expect(code).toBe(0);
    expect(report.verdict.kind).toBe('safe');
    expect(report.host.revisions.uniform).toBe(false);
    expect(report.host.revisions.packages.map((p) => p.revision)).toEqual(['0x10003a2', '0x1000390']);
    expect(report.verdict.caveats.join(' ')).toContain('package 1');
    expect(report.update?.blob?.index).toBe(1);
    expect(report.staging.passes).toBe(2);
    expect(report.prediction!.approximations.join(' ')).toContain('different revisions');
    expectRun(report.prediction!.withStaging, gnrMachine(), firmwareOf('mixed-revisions'), 'auto');
  });

  it('amd-epyc: not applicable on an AMD host, which is still described', async () => {
    const { code, report } = await probeFixture('amd-epyc');
    expect(code).toBe(1);
    expect(report.verdict.kind).toBe('not-applicable');
    expect(report.verdict.summary).toContain('AMD');
    expect(report.host).toMatchObject({
      vendor: 'AuthenticAMD',
      fms: '19-01-01',
      virtualization: 'bare-metal',
      topology: { packages: 1, coresPerPackage: 4, threadsPerCore: 2, numbering: { smt: 'adjacent' } },
    });
    expect(report.msrs.access).toBe('not-read');
    expect(report.update).toBeNull();
    expect(report.prediction).toBeNull();
    expect(report.machine).toBeNull();
  });

  it('unsafe-6.8: a blob without min_req_ver loads as unsafe and taints; a 6.8 kernel does not stage', async () => {
    const { code, report } = await probeFixture('unsafe-6.8');
    expect(code).toBe(1);
    expect(report.verdict).toMatchObject({ kind: 'unsafe', taints: true, reloadReturns: '0' });
    expect(report.verdict.reasons.join(' ')).toContain('min_req_ver 0');
    expect(report.host.kernel).toMatchObject({ hasStaging: false, hasMinrevCheck: true, hz: 250 });
    expect(report.host.kernel.forceMinrev).toEqual({
      value: false,
      source: 'microcode.force_minrev=0 on the command line',
    });
    expect(report.update?.blob).toMatchObject({ index: 1, minRequiredRevision: '0x0' });
    expect(report.staging.passes).toBe(2);
    const p = report.prediction!;
    expect(p.thisHost).toBe('without-staging');
    expect(p.assumptions).toContain('pre-6.12');
    expectRun(
      p.withoutStaging,
      gnrMachine({ cost: { hz: 250, kernelGeneration: 'pre-6.12' } }),
      firmwareOf('unsafe-6.8'),
      'off',
    );
  });

  it('offline-primary: an offline SMT primary thread aborts the load (-EBUSY), an offline sibling would not', async () => {
    const { code, report } = await probeFixture('offline-primary');
    expect(code).toBe(1);
    expect(report.verdict).toMatchObject({ kind: 'aborted', reloadReturns: '-EBUSY' });
    expect(report.verdict.summary).toContain('CPU 2');
    expect(report.verdict.summary).not.toContain('6');
    expect(report.host.topology).toMatchObject({
      offlineList: '2,6',
      present: 8,
      online: 6,
      threadsPerCore: 2,
      coresPerPackage: 4,
    });
    expect(report.update?.blob?.index).toBe(1);
    expect(report.staging.passes).toBe(1);
    expect(report.prediction?.withoutStaging.outcome).toBe('busy');
    expect(report.machine?.offlineCpus).toEqual([2, 6]);
  });

  it('nosmt: every sibling offline is allowed; the hidden threads are inferred from smt/control', async () => {
    const { code, report } = await probeFixture('nosmt');
    expect(code).toBe(0);
    expect(report.verdict.kind).toBe('safe');
    expect(report.host.topology).toMatchObject({
      threadsPerCore: 2,
      coresPerPackage: 4,
      offlineList: '4-7',
      numbering: { smt: 'unknown' },
      exact: false,
    });
    expect(report.staging.passes).toBe(1);
    expectRun(
      report.prediction!.withStaging,
      gnrMachine({ packages: 1, offlineCpus: [4, 5, 6, 7] }),
      firmwareOf('nosmt'),
      'auto',
    );
  });

  it('odd-up: one CPU, garbage in a sysfs file, no firmware folder: a clear message each', async () => {
    const { code, report } = await probeFixture('odd-up');
    expect(code).toBe(1);
    expect(report.verdict).toMatchObject({ kind: 'no-update', reloadReturns: '-ENOENT' });
    expect(report.update?.status).toBe('no-file');
    expect(report.update?.searched).toContain('/lib/firmware/intel-ucode/06-ad-01');
    expect(report.host.topology).toMatchObject({
      packages: 1,
      coresPerPackage: 1,
      threadsPerCore: 1,
      present: 1,
    });
    expect(report.notes).toContain('/sys/devices/system/cpu/cpu0/topology/core_id: not a number: "banana"');
    expect(report.staging.passes).toBe(1);
    expect(report.prediction).toBeNull();
  });

  it('already-current: the newest blob is what the CPU runs', async () => {
    const { code, report } = await probeFixture('already-current');
    expect(code).toBe(1);
    expect(report.verdict.kind).toBe('no-update');
    expect(report.update).toMatchObject({
      status: 'already-current',
      blob: null,
      newest: { revision: '0x10004a2' },
    });
    expect(report.prediction).toBeNull();
  });

  it('the text report names the verdict, the blob, the passes and the prediction', async () => {
    const { probeCli } = await import('./run-probe.js');
    const run = await probeCli('--root', hostRoot('interleaved-2s'));
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('verdict     would load 0x10003a2 -> 0x10004a2 safely');
    expect(run.stdout).toContain('blob 1: 0x10003a2 -> 0x10004a2, dated 2025-07-23');
    expect(run.stdout).toMatch(/8 passes on this numbering/);
    expect(run.stdout).toMatch(/with staging: +stop window \d+\.\d{3} ms/);
    expect(run.stdout).not.toContain('microcode: ');
  });
});
