import { describe, expect, it } from 'vitest';
import {
  campaignRunOptions,
  DEFAULT_SPACE,
  DeviceFaultSchema,
  drawRun,
  format,
  resultJson,
  runSeed,
  type SimulateOptions,
  type SimulationResult,
  simulate,
} from '../../src/index.js';
import { ResultJson } from '../../src/schemas/index.js';
import { cli, expectValid, issuePaths } from './support.js';

// Real results, many kinds of run, against the result@2 schema.

const SMALL = { machine: 'up', syntheticImageBytes: 64 * 1024 } as const;
const DEVICE_FAULT_KINDS = DeviceFaultSchema.shape.kind.options;

function valid(opts: SimulateOptions, what: string): SimulationResult {
  const r = simulate(opts);
  expectValid(ResultJson, resultJson(r), what);
  return r;
}

/** A file with one blob for the up/gnr CPU (0xa06d1, running 0x10003a2). */
function firmware(minRequiredRevision: number): Uint8Array {
  return format.buildMicrocode({
    signature: 0xa06d1,
    revision: 0x10004a2,
    minRequiredRevision,
    dataSize: 8192,
  });
}

describe('result@2: real results validate', () => {
  it('the default simulate, through the CLI (gnr-2s, 512 CPUs, 1.6 MB)', async () => {
    const run = await cli('simulate', '--synthetic', '--json', '-');
    expect(run.code).toBe(0);
    const doc = expectValid(ResultJson, run.stdout, 'simulate --synthetic') as { outcome: string };
    expect(doc.outcome).toBe('updated');
  });

  it('--json-omit: the parts left out are listed in omitted (CLI)', async () => {
    const run = await cli(
      'simulate',
      '-m',
      'up',
      '--image-size',
      '16K',
      '--json-omit',
      'trace,cpus,log',
      '--json',
      '-',
    );
    const doc = expectValid(ResultJson, run.stdout, '--json-omit') as Record<string, unknown>;
    expect(doc.omitted).toEqual(['trace', 'cpus', 'log']);
    expect(Object.keys(doc)).not.toContain('trace');
  });

  it.each(DEVICE_FAULT_KINDS.filter((k) => k !== 'respond'))('device fault %s', (kind) => {
    const r = valid({ ...SMALL, faults: [{ value: { kind, atTransaction: 2 } }] }, kind);
    expect(r.devices[0]!.faults).toEqual([{ kind, atTransaction: 2 }]);
    expect(r.devices[0]!.faultsFired).toBeGreaterThan(0);
  });

  it('the scripted respond fault, offset=len,sticky: the kernel does not terminate', () => {
    // Trace off: 10,000 transactions make 20,000 trace records the other runs already cover.
    const r = valid(
      { ...SMALL, faults: [{ value: { kind: 'respond', offset: 'len', sticky: true } }], trace: false },
      'respond',
    );
    expect(r.outcome).toBe('kernel-does-not-terminate');
    expect(r.stuck?.where).toBe('do_stage()');
    expect(JSON.parse(resultJson(r)).returnCode).toBeNull();
    expect(r.devices[0]!.faults).toEqual([{ kind: 'respond', offset: 'len', sticky: true }]);
  });

  it('respond faults that answer odd status and header bits, with a probability', () => {
    for (const value of [
      { kind: 'respond' as const, atTransaction: 1, status: 4 },
      { kind: 'respond' as const, probability: 0.5, headerHigh: 5, readyNs: 3e6 },
      { kind: 'respond' as const, atTransaction: 0, offset: 'chunk+8192', statusBits: 0x8000_0004 },
    ])
      valid({ ...SMALL, faults: [{ value }] }, JSON.stringify(value));
  });

  it('package faults: no mailbox, and RDMSR 0x7a5 raising #GP (msrFault)', () => {
    const absent = valid(
      { machine: { extends: 'up', packageConfig: [{ mailboxAbsent: true }] }, syntheticImageBytes: 16384 },
      'mailbox absent',
    );
    expect(absent.devices[0]!.present).toBe(false);
    const msr = valid(
      { machine: { extends: 'up', packageConfig: [{ mailboxMsrFault: true }] }, syntheticImageBytes: 16384 },
      'msr fault',
    );
    expect(msr.staging.packages[0]!.msrFault).toBe(true);
    expect(msr.staging.reason).toBe('mailbox-msr-fault');
  });

  it('a panic: a 16 MB image with staging off on gnr-2s', () => {
    const r = valid(
      { machine: 'gnr-2s', syntheticImageBytes: 16 * 1024 * 1024, policy: { staging: 'off' }, trace: false },
      'panic',
    );
    expect(r.outcome).toBe('panic');
    expect(r.panicMessage).not.toBeNull();
  });

  it('a hang: CPU 0 never reaches stop_machine (nulls for the times never reached)', () => {
    const r = valid({ ...SMALL, cpuFaults: [{ cpu: 0, kind: 'never-reaches-stop-machine' }] }, 'hang');
    expect(r.outcome).toBe('hang');
    expect(JSON.parse(resultJson(r)).cpus[0].stoppedNs).toBeNull();
  });

  it('min-rev: refused with force_minrev (-ENOENT), unsafe and tainted without', () => {
    const refused = valid(
      { machine: 'up', firmware: firmware(0x10003b0), policy: { forceMinrev: true } },
      'refused',
    );
    expect(refused.outcome).toBe('not-found');
    const unsafe = valid({ machine: 'up', firmware: firmware(0) }, 'unsafe');
    expect(unsafe.taints).toContain('TAINT_CPU_OUT_OF_SPEC');
    const corrupt = valid({ machine: 'up', firmware: format.flipDword(firmware(0), 100) }, 'corrupt');
    expect(corrupt.outcome).toBe('bad-firmware');
  });

  it('offline CPUs: a sibling (loads), a primary thread (-EBUSY)', () => {
    const sibling = valid(
      { machine: { extends: 'up', threadsPerCore: 2 }, syntheticImageBytes: 16384, offlineCpus: [1] },
      'sibling',
    );
    expect(sibling.outcome).toBe('updated');
    expect(sibling.cpus[1]!.online).toBe(false);
    const primary = valid({ machine: 'srf-2s', syntheticImageBytes: 16384, offlineCpus: [3] }, 'primary');
    expect(primary.outcome).toBe('busy');
    expect(primary.image).toBeNull();
  });

  it('profiles, policies and CPU faults: limited cache, slow, require, per-chunk, fine polling, late arrival', () => {
    const machine = { extends: 'up', coresPerPackage: 2, packages: 2 } as const;
    valid(
      {
        machine,
        syntheticImageBytes: 32768,
        profiles: [
          {
            value: {
              kind: 'limited-cache',
              cacheChunks: 2,
              rerequestProbability: 0.5,
              verifyPass: true,
              extraChunks: 1,
            },
          },
        ],
        policy: { budget: 'per-chunk', chunkRetries: 1, dedupe: 'distinct', poll: 'fine', pollUs: 50 },
        seed: 3,
      },
      'limited cache',
    );
    const aborted = valid(
      {
        machine,
        syntheticImageBytes: 16384,
        profiles: [{ pkg: 1, value: { kind: 'slow', chunkNs: 3e6 } }],
        faults: [{ pkg: 1, value: { kind: 'never-ready' } }],
        policy: { staging: 'require' },
        cost: { hz: 250, kernelGeneration: 'pre-6.12' },
      },
      'require',
    );
    expect(aborted.outcome).toBe('aborted');
    valid(
      {
        machine,
        syntheticImageBytes: 16384,
        cpuFaults: [{ cpu: 1, kind: 'late-arrival', delayNs: 1_500_000_000 }],
      },
      'late arrival',
    );
  });

  it('24 runs drawn from the default campaign space, with the trace on', () => {
    const outcomes = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const run = drawRun(DEFAULT_SPACE, runSeed(11, i));
      outcomes.add(valid(campaignRunOptions(run, { trace: true }), `campaign run ${i}`).outcome);
    }
    expect(outcomes.size).toBeGreaterThan(1);
  });
});

describe('result@2: the schema refuses what the wire never holds', () => {
  const doc: unknown = JSON.parse(resultJson(simulate({ ...SMALL, trace: false })));
  /** The document with the value at `path` replaced (deleted for undefined). */
  const changed = (path: (string | number)[], value: unknown): unknown => {
    const d = structuredClone(doc);
    let holder = d as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (value === undefined) delete holder[last];
    else holder[last] = value;
    return d;
  };

  it('an unknown field anywhere', () => {
    expect(issuePaths(ResultJson, changed(['extra'], 1))).toEqual(['']);
    expect(issuePaths(ResultJson, changed(['cpus', 0, 'extra'], 1))).toEqual(['cpus.0']);
    expect(issuePaths(ResultJson, changed(['policy', 'extra'], 1))).toEqual(['policy']);
  });

  it('a number where the wire has hex, a missing default, another schema', () => {
    expect(issuePaths(ResultJson, changed(['machine', 'signature'], 0xa06d1))).toEqual(['machine.signature']);
    expect(issuePaths(ResultJson, changed(['revision', 'new'], '0x10004A2'))).toEqual(['revision.new']);
    expect(issuePaths(ResultJson, changed(['policy', 'budget'], undefined))).toEqual(['policy.budget']);
    expect(issuePaths(ResultJson, changed(['schema'], 'ucode-staging/result@1'))).toEqual(['schema']);
  });

  it('a part missing without omitted naming it, or present although omitted names it', () => {
    expect(issuePaths(ResultJson, changed(['cpus'], undefined))).toEqual(['cpus']);
    expect(issuePaths(ResultJson, changed(['omitted'], ['log']))).toEqual(['log']);
  });
});
