import { describe, expect, it } from 'vitest';
import {
  type CoreTopology,
  type LateLoadRun,
  newLateLoadRun,
  type RendezvousEnv,
  rendezvous,
  setupCpus,
} from '../../src/kernel/core.js';
import type { UcodeState } from '../../src/kernel/ops.js';
import { KernelLog } from '../../src/kernel/printk.js';
import { Tracer } from '../../src/kernel/trace.js';
import { DEFAULT_COST_MODEL } from '../../src/time/cost-model.js';

// The core on its own: no machine, no Intel driver. A clock, a topology and an
// apply that takes a given time are all the rendezvous needs.

const T0 = 1e9;
const MS = 1e6;

/** 2 cores x 2 threads, siblings numbered last: CPUs 0 and 1 are the primaries of CPUs 2 and 3. */
function topology(offline: number[] = []): CoreTopology {
  return {
    cpus: 4,
    online: (cpu) => !offline.includes(cpu),
    isPrimary: (cpu) => cpu < 2,
    coreSiblings: (cpu) => [cpu % 2, (cpu % 2) + 2],
  };
}

interface Setup {
  env: RendezvousEnv;
  run: LateLoadRun;
  log: KernelLog;
}

function setup(
  opts: { applyNs?: number[]; stallNs?: number[]; stopDelayNs?: number[]; offline?: number[] } = {},
): Setup {
  let now = T0;
  const port = {
    now: () => now,
    runAt: (t: number) => {
      now = t;
    },
  };
  const log = new KernelLog(port);
  const updated = new Set<number>();
  const env: RendezvousEnv = {
    port,
    log,
    tracer: new Tracer(false),
    cost: DEFAULT_COST_MODEL,
    cpuAvailability: {
      stallNs: (cpu) => opts.stallNs?.[cpu] ?? 0,
      stopMachineDelayNs: (cpu) => opts.stopDelayNs?.[cpu] ?? 0,
    },
    ops: {
      applyMicrocode: (cpu): UcodeState => {
        now += opts.applyNs?.[cpu] ?? 2 * MS;
        // The sibling finds its core already updated by the primary.
        const core = cpu % 2;
        if (updated.has(core)) return 'ok';
        updated.add(core);
        return 'updated';
      },
    },
  };
  const run = newLateLoadRun(T0, 0x100);
  const ops = { nmiSafe: false, useNmi: true };
  expect(setupCpus({ ops, log, topology: topology(opts.offline) }, run)).toBe(true);
  return { env, run, log };
}

const texts = (log: KernelLog): string[] => log.lines.map((l) => l.text);

describe('the rendezvous returns how stop_machine ended', () => {
  it('released: the stop window, every CPU done, the arrival counter at zero', () => {
    const { env, run, log } = setup();
    const out = rendezvous(env, run);
    expect(out.kind).toBe('released');
    if (out.kind !== 'released') return;
    const online = run.cpus.filter((t) => t.online);
    expect(out.window.startNs).toBe(T0 + DEFAULT_COST_MODEL.stopMachineEntryNs);
    expect(out.window.endNs).toBe(Math.max(...online.map((t) => t.doneNs)));
    expect(run.cpus.map((t) => t.result)).toEqual(['updated', 'updated', 'ok', 'ok']);
    expect(run.lateCpusIn).toBe(0);
    expect(log.lines).toEqual([]);
  });

  it('panic: a primary applying for over 1 s makes its sibling give up; the panic is printed at that time', () => {
    const { env, run, log } = setup({ applyNs: [2 * MS, 1500 * MS] });
    const out = rendezvous(env, run);
    const sibling = run.cpus[3]!;
    expect(out).toEqual({
      kind: 'panic',
      atNs: sibling.releasedNs + 1e9,
      primary: 1,
      message: 'Microcode load: Primary CPU 1 timed out',
    });
    expect(texts(log)).toEqual([
      'Kernel panic - not syncing: Microcode load: Primary CPU 1 timed out',
      '---[ end Kernel panic - not syncing: Microcode load: Primary CPU 1 timed out ]---',
    ]);
    expect(log.lines.map((l) => l.level)).toEqual(['emerg', 'emerg']);
    expect(log.lines[0]!.timeNs).toBe(sibling.releasedNs + 1e9);
  });

  it('hang: a CPU that never arrives leaves the others timed out and stop_machine waiting for it', () => {
    const { env, run, log } = setup({ stallNs: [0, 0, Number.POSITIVE_INFINITY, 0] });
    const out = rendezvous(env, run);
    expect(out).toMatchObject({
      kind: 'hang',
      cpu: 2,
      reason: 'stop_machine never completes: CPU 2 never reached the rendezvous',
      stuck: { where: 'multi_cpu_stop()' },
    });
    expect(run.cpus.map((t) => t.result)).toEqual(['timeout', 'timeout', 'unset', 'timeout']);
    // Print-once at both sites: the first primary (CPU 0) and the first secondary (CPU 3) to give up.
    expect(texts(log)).toEqual(['microcode: load: 1 CPUs timed out', 'microcode: load: 3 CPUs timed out']);
  });

  it('released after a timeout: a CPU 1.5 s late comes back, everyone has timed out', () => {
    const { env, run, log } = setup({ stallNs: [0, 1500 * MS, 0, 0] });
    const out = rendezvous(env, run);
    expect(out.kind).toBe('released');
    expect(run.cpus.every((t) => t.result === 'timeout')).toBe(true);
    expect(texts(log)).toEqual(['microcode: load: 1 CPUs timed out', 'microcode: load: 2 CPUs timed out']);
  });

  it('an offline sibling counts in offline_in_nmi when it answers CPU 0 and is released with it', () => {
    const { env, run } = setup({ offline: [3] });
    const out = rendezvous(env, run);
    expect(out.kind).toBe('released');
    expect(run.offline).toEqual([3]);
    expect(run.offlineInNmi).toBe(1);
    expect(run.cpus[3]!.result).toBe('offline');
    expect(run.cpus[3]!.doneNs).toBe(run.cpus[0]!.doneNs);
  });
});
