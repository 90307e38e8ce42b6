import { describe, expect, it } from 'vitest';
import { buildMicrocode, extTableOffset, flipDword } from '../../src/format/index.js';
import type { LogLevel } from '../../src/kernel/printk.js';
import { PRESETS } from '../../src/platform/presets.js';
import type { SimulationResult } from '../../src/sim/result-types.js';
import { coresConsistent, image, machine, NEW_REV, run, texts } from './helpers.js';

const cpusOf = (name: string): number => {
  const p = PRESETS[name]!;
  return p.packages * p.coresPerPackage * p.threadsPerCore;
};

describe('happy path on every preset', () => {
  for (const name of ['gnr-2s', 'srf-2s', 'spr-2s', 'gnr-8s', 'up']) {
    it(`${name}: staged when the CPU enumerates staging, all cores updated`, () => {
      const p = PRESETS[name]!;
      const img = image({ signature: p.signature, revision: p.initialRevision + 1, bytes: 256 * 1024 });
      const r = run(name, { img });
      const cores = p.packages * p.coresPerPackage;
      const siblings = cpusOf(name) - cores;
      const capable = p.staging.archCapMcuEnum && p.staging.mcuStaging;
      const rev = (p.initialRevision + 1).toString(16);
      expect(texts(r)).toEqual([
        ...(capable ? ['microcode: Enabled staging feature.'] : []),
        `microcode: Current revision: 0x${p.initialRevision.toString(16).padStart(8, '0')}`,
        ...(capable ? [`microcode: Staging of patch revision 0x${rev} succeeded.`] : []),
        `microcode: load: updated on ${cores} primary CPUs with ${siblings} siblings`,
        `microcode: revision: 0x${p.initialRevision.toString(16)} -> 0x${rev}`,
      ]);
      expect(r.outcome).toBe('updated');
      expect(r.returnCode).toBe(0);
      expect(r.counts).toEqual({ updated: cores, siblings, failed: 0, timedOut: 0, offline: 0 });
      expect(r.cpus.every((c) => c.revisionAfter === p.initialRevision + 1)).toBe(true);
      expect(r.staging.ok).toBe(capable);
      expect(r.staging.packages.length).toBe(capable ? p.packages : 0);
      expect(r.tainted).toBe(false);
    });
  }

  it('staging off: same result, no mailbox touched, longer stop window by exactly the staged saving', () => {
    const bytes = 1_670_144;
    const img = image({ bytes });
    const on = run(machine(), { img });
    const off = run(machine(), { img, policy: { staging: 'off' } });
    expect(texts(off)).not.toContain('microcode: Enabled staging feature.');
    expect(off.outcome).toBe('updated');
    expect(off.devices.every((d) => d.transactions === 0 && d.aborts === 0)).toBe(true);
    expect(on.applies.every((a) => a.staged)).toBe(true);
    expect(off.applies.every((a) => !a.staged)).toBe(true);
    // The cost model: unstaged apply 2 ms + 60 ns/byte, staged 2 ms + 36 ns/byte.
    const expected = (60 - 36) * bytes;
    const saved = off.stopWindow!.durationNs - on.stopWindow!.durationNs;
    expect(Math.abs(saved - expected)).toBeLessThan(2_000);
  });

  it('reports the stop window from the first CPU stopped to the last released', () => {
    const r = run(machine());
    const online = r.cpus.filter((c) => c.online);
    expect(r.stopWindow!.startNs).toBe(Math.min(...online.map((c) => c.stoppedNs)));
    expect(r.stopWindow!.endNs).toBe(Math.max(...online.map((c) => c.doneNs)));
    for (const c of online) expect(c.stoppedForNs).toBe(r.stopWindow!.endNs - c.stoppedNs);
  });

  it('siblings skip the MSR write: one WRMSR 0x79 per core', () => {
    const r = run(machine());
    expect(r.applies.length).toBe(8);
    expect(new Set(r.applies.map((a) => a.core)).size).toBe(8);
    expect(r.cpus.filter((c) => c.result === 'ok').every((c) => !c.primary)).toBe(true);
  });

  it('same seed, byte-identical result', () => {
    const a = run(
      machine({
        packageConfig: [{ profile: { kind: 'limited-cache', cacheChunks: 4, rerequestProbability: 0.2 } }],
      }),
      { seed: 7 },
    );
    const b = run(
      machine({
        packageConfig: [{ profile: { kind: 'limited-cache', cacheChunks: 4, rerequestProbability: 0.2 } }],
      }),
      { seed: 7 },
    );
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

describe('firmware decisions', () => {
  it('not found when no newer image', () => {
    const r = run(machine({ initialRevision: NEW_REV }));
    expect(r.outcome).toBe('not-found');
    expect(r.returnCode).toBe(-2);
    expect(r.stopWindow).toBeNull();
  });

  it('unsafe image: the two warnings, still loaded, kernel tainted', () => {
    const r = run(machine(), { img: image({ minRev: 0 }) });
    expect(texts(r)).toContain(
      'microcode: Unsafe microcode update: Microcode header does not specify a required min version',
    );
    expect(texts(r)).toContain('microcode: Late microcode loading without minimal revision check.');
    expect(texts(r)).toContain('microcode: You should switch to early loading, if possible.');
    expect(r.outcome).toBe('updated');
    expect(r.tainted).toBe(true);
  });

  it('too-old current revision is unsafe; force_minrev skips it', () => {
    const img = image({ minRev: 0x150 });
    const r = run(machine(), { img });
    expect(texts(r)).toContain('microcode: Unsafe microcode update: Current revision 0x100 too old');
    expect(texts(r)).toContain('microcode: Current should be at 0x150 or higher. Use early loading instead');
    const forced = run(machine(), { img, policy: { forceMinrev: true } });
    expect(forced.outcome).toBe('not-found');
  });

  it('a corrupt file is rejected with the kernel message', () => {
    const img = image();
    img[100] ^= 1;
    const r = run(machine(), { img });
    expect(r.outcome).toBe('bad-firmware');
    expect(r.returnCode).toBe(-77);
    expect(texts(r)).toContain('microcode: Bad microcode data checksum, aborting.');
  });
  it('each line prints at its level in intel.c: pr_warn for the extended table checksum, else pr_err; min-rev pr_info', () => {
    const levelOf = (r: SimulationResult, text: string): LogLevel | undefined =>
      r.log.find((l) => l.text === `microcode: ${text}`)?.level;
    const withExt = buildMicrocode({
      signature: 0xa06d1,
      processorFlags: 0x95,
      revision: NEW_REV,
      dataSize: 64 * 1024 - 48 - 20 - 12,
      minRequiredRevision: 1,
      date: '2025-07-23',
      extendedSignatures: [{ signature: 0xa06d2, processorFlags: 1 }],
    });
    // A reserved dword of the table's header: only the table's own checksum breaks.
    const badTable = run(machine(), { img: flipDword(withExt, extTableOffset(withExt)! + 8, 1) });
    expect(badTable.outcome).toBe('bad-firmware');
    expect(levelOf(badTable, 'Bad extended signature table checksum, aborting.')).toBe('warn');
    const badData = run(machine(), { img: flipDword(withExt, 100, 1) });
    expect(levelOf(badData, 'Bad microcode data checksum, aborting.')).toBe('err');
    const unsafe = run(machine(), { img: image({ minRev: 0 }) });
    expect(
      levelOf(unsafe, 'Unsafe microcode update: Microcode header does not specify a required min version'),
    ).toBe('info');
  });
});

describe('topology', () => {
  it('interleaved numbering stages each package once per primary under the kernel rule, once under distinct', () => {
    const m = machine({ numbering: { packages: 'interleaved', smt: 'last' } });
    const kernel = run(m);
    expect(kernel.staging.packages.map((p) => p.pkg)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(kernel.staging.packages.map((p) => p.cpu)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const distinct = run(m, { policy: { dedupe: 'distinct' } });
    expect(distinct.staging.packages.map((p) => p.pkg)).toEqual([0, 1]);
    expect(kernel.staging.durationNs).toBeGreaterThan(3.5 * distinct.staging.durationNs);
    expect(kernel.outcome).toBe('updated');
    // Package-major numbering: the rule dedupes correctly.
    expect(run(machine()).staging.packages.map((p) => p.cpu)).toEqual([0, 4]);
  });

  it('adjacent SMT numbering: primaries are the even CPUs', () => {
    const r = run(machine({ numbering: { packages: 'package-major', smt: 'adjacent' } }));
    expect(r.cpus.filter((c) => c.primary).map((c) => c.cpu)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect(r.staging.packages.map((p) => p.cpu)).toEqual([0, 8]);
    expect(r.counts.updated).toBe(8);
  });

  it('an offline SMT sibling is kicked by NMI and counted offline; its core is still updated', () => {
    const r = run(machine({ offlineCpus: [9] }));
    expect(r.outcome).toBe('updated');
    expect(r.counts).toEqual({ updated: 8, siblings: 7, failed: 0, timedOut: 0, offline: 1 });
    expect(r.cpus[9]!.revisionAfter).toBe(NEW_REV);
    expect(r.trace.spans.some((s) => s.cat === 'offline_kick')).toBe(true);
  });

  it('an offline primary thread aborts the load with -EBUSY', () => {
    const r = run(machine({ offlineCpus: [3] }));
    expect(texts(r)).toContain('microcode: CPU 3 not online, loading aborted');
    expect(r.outcome).toBe('busy');
    expect(r.returnCode).toBe(-16);
  });

  it('an offline sibling that never answers the NMI: CPU 0 does not load, everyone times out', () => {
    const r = run(machine({ offlineCpus: [9], cpuFaults: [{ cpu: 9, kind: 'never-arrives' }] }));
    expect(r.outcome).toBe('failed');
    expect(r.returnCode).toBe(-5);
    expect(texts(r)).toContain('microcode: 1 offline siblings did not respond.');
    expect(r.cpus.every((c) => c.revisionAfter === 0x100)).toBe(true);
  });
});

describe('rendezvous timeouts', () => {
  it('a CPU that arrives 1.5 s late: every CPU times out, nothing is updated', () => {
    const r = run(machine({ cpuFaults: [{ cpu: 5, kind: 'late-arrival', delayNs: 1.5e9 }] }));
    expect(texts(r)).toContain('microcode: load: 1 CPUs timed out');
    expect(texts(r)).toContain('microcode: update failed: 0 CPUs failed 16 CPUs timed out');
    expect(r.returnCode).toBe(-5);
    expect(r.cpus.every((c) => c.revisionAfter === 0x100)).toBe(true);
  });

  it('a CPU arriving 0.9 s late is waited for', () => {
    const r = run(machine({ cpuFaults: [{ cpu: 5, kind: 'late-arrival', delayNs: 0.9e9 }] }));
    expect(r.outcome).toBe('updated');
    expect(r.stopWindow!.durationNs).toBeGreaterThan(0.9e9);
  });

  it('a CPU that never arrives: the others time out and stop_machine never returns', () => {
    const r = run(machine({ cpuFaults: [{ cpu: 5, kind: 'never-arrives' }] }));
    expect(r.outcome).toBe('hang');
    expect(texts(r)).toContain('microcode: load: 1 CPUs timed out');
    expect(r.hangReason).toBe('stop_machine never completes: CPU 5 never reached the rendezvous');
    expect(r.stopWindow).toBeNull();
  });

  it('a primary whose apply takes over 1 s makes its sibling panic', () => {
    const r = run(machine({ cost: { applyUnstagedPerByteNs: 20_000 } }), {
      img: image({ bytes: 64 * 1024 }),
      policy: { staging: 'off' },
    });
    expect(r.outcome).toBe('panic');
    const m = /^Kernel panic - not syncing: Microcode load: Primary CPU (\d+) timed out$/.exec(
      texts(r).at(-2)!,
    );
    expect(texts(r).at(-1)).toBe(
      `---[ end Kernel panic - not syncing: Microcode load: Primary CPU ${m![1]} timed out ]---`,
    );
    expect(m).not.toBeNull();
    // Whichever sibling gives up first names its primary; that primary was still applying.
    const primary = r.applies.find((a) => a.cpu === Number(m![1]))!;
    expect(primary.endNs - primary.startNs).toBeGreaterThan(1e9);
    expect(r.panicMessage).toBe(`Microcode load: Primary CPU ${m![1]} timed out`);
  });

  it('a core that rejects the update: failed, load incomplete, tainted, -EIO', () => {
    const r = run(machine({ cpuFaults: [{ cpu: 2, kind: 'apply-rejected' }] }));
    expect(r.outcome).toBe('partial');
    expect(r.counts.failed).toBe(2);
    expect(texts(r)).toContain('microcode: load incomplete. 2 CPUs timed out or failed');
    expect(r.tainted).toBe(true);
    expect(r.returnCode).toBe(-5);
    expect(coresConsistent(r)).toBe(true);
    expect(r.cpus.filter((c) => c.revisionAfter !== NEW_REV).map((c) => c.cpu)).toEqual([2, 10]);
  });
});

describe('uniprocessor and non-SMT', () => {
  it('UP: the single CPU is the primary thread and stages its package', () => {
    const r = run('up', { img: image({ revision: 0x10003a3 }) });
    expect(r.staging.packages).toHaveLength(1);
    expect(r.counts).toEqual({ updated: 1, siblings: 0, failed: 0, timedOut: 0, offline: 0 });
  });

  it('no SMT: every CPU is a primary and updates its own core', () => {
    const r = run(machine({ threadsPerCore: 1 }));
    expect(r.counts).toEqual({ updated: 8, siblings: 0, failed: 0, timedOut: 0, offline: 0 });
  });
});
