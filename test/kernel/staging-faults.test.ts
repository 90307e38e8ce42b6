import { describe, expect, it } from 'vitest';
import { fixMainChecksum, withHeaderField } from '../../src/format/index.js';
import type { DeviceFault, DeviceProfile } from '../../src/platform/mailbox/config.js';
import { coresConsistent, image, machine, NEW_REV, run, texts } from './helpers.js';

const IMG_BYTES = 64 * 1024; // 16 chunks
const CHUNKS = IMG_BYTES / 4096;

function faulty(fault: DeviceFault, pkg = 1) {
  const packageConfig = [{}, {}];
  packageConfig[pkg] = { faults: [fault] };
  return machine({ packageConfig });
}

/** A device that asks for the whole image twice (a verification pass), then `extraChunks` more. */
function verifyPass(extraChunks: number): DeviceProfile {
  return { kind: 'limited-cache', cacheChunks: 4, verifyPass: true, rerequestProbability: 0, extraChunks };
}

function withProfile(profile: DeviceProfile) {
  return machine({ packageConfig: [{ profile }, { profile }] });
}

/** Each device fault: the errno the kernel returns and the extra line it prints first (if any). */
const MATRIX: { kind: DeviceFault['kind']; errno: number; line?: RegExp; fullPoll?: boolean }[] = [
  { kind: 'error-status', errno: -5 },
  { kind: 'error-status-not-ready', errno: -5, fullPoll: true },
  { kind: 'never-ready', errno: -110, fullPoll: true },
  { kind: 'bad-header', errno: -53, line: /^microcode: staging: invalid response header \(0x[0-9a-f]+\)$/ },
  {
    kind: 'offset-past-end',
    errno: -22,
    line: new RegExp(`^microcode: staging: invalid offset \\(\\d+\\) past the image end \\(${IMG_BYTES}\\)$`),
  },
  { kind: 'response-error', errno: -71 },
  { kind: 'rerequest-forever', errno: -90 },
];

describe('staging fault matrix: errno, message, fallback', () => {
  for (const f of MATRIX) {
    it(`${f.kind} at transaction 3 on package 1 -> (${f.errno}), load completes unstaged there`, () => {
      const r = run(faulty({ kind: f.kind, atTransaction: 3 }), { img: image({ bytes: IMG_BYTES }) });
      const log = texts(r);
      const failLine = `microcode: Error: staging failed (${f.errno}) for CPU4 at package 1.`;
      expect(log).toContain(failLine);
      expect(log.some((l) => l.startsWith('microcode: Staging of patch revision'))).toBe(false);
      if (f.line) {
        const i = log.findIndex((l) => f.line!.test(l));
        expect(i).toBeGreaterThan(-1);
        expect(i).toBe(log.indexOf(failLine) - 1);
      }
      expect(r.staging.ok).toBe(false);
      expect(r.staging.errno).toBe(f.errno);
      expect(r.staging.failedPackage).toBe(1);
      expect(r.staging.packages.map((p) => p.errno)).toEqual([0, f.errno]);
      // The fallback: every core still updated; package 0's cores used their staged copy.
      expect(r.outcome).toBe('updated');
      expect(r.cpus.every((c) => c.revisionAfter === NEW_REV)).toBe(true);
      expect(r.applies.filter((a) => a.staged).length).toBe(4);
      if (f.fullPoll) {
        // 10,000 polls of msleep(1): at least 10 s of virtual time on that package.
        expect(r.staging.packages[1]!.endNs - r.staging.packages[1]!.startNs).toBeGreaterThan(10e9);
      }
    });

    it(`${f.kind} under staging=require aborts the load`, () => {
      const r = run(faulty({ kind: f.kind, atTransaction: 0 }, 0), {
        img: image({ bytes: IMG_BYTES }),
        policy: { staging: 'require' },
      });
      expect(r.outcome).toBe('aborted');
      expect(r.returnCode).toBe(f.errno);
      expect(r.stopWindow).toBeNull();
      expect(r.cpus.every((c) => c.revisionAfter === 0x100)).toBe(true);
      expect(texts(r)).toContain(`microcode: Error: staging failed (${f.errno}) for CPU0 at package 0.`);
      // Staging stops at the first failure: package 1 was never touched.
      expect(r.devices[1]!.aborts).toBe(0);
    });
  }

  it('ignore-abort bites when the kernel re-stages a package (interleaved numbering): -EIO', () => {
    const m = machine({
      numbering: { packages: 'interleaved', smt: 'last' },
      packageConfig: [{ faults: [{ kind: 'ignore-abort', atTransaction: 0 }] }],
    });
    const r = run(m, { img: image({ bytes: IMG_BYTES }) });
    // CPU 0 stages package 0 fine, CPU 1 package 1; CPU 2's ABORT to package 0 is ignored.
    expect(texts(r)).toContain('microcode: Error: staging failed (-5) for CPU2 at package 0.');
    expect(r.staging.packages.map((p) => [p.cpu, p.errno])).toEqual([
      [0, 0],
      [1, 0],
      [2, -5],
    ]);
    expect(r.devices[0]!.misuse.length).toBe(1);
    // Under the distinct-package rule the package is staged once and the fault never matters.
    expect(run(m, { img: image({ bytes: IMG_BYTES }), policy: { dedupe: 'distinct' } }).staging.ok).toBe(
      true,
    );
  });

  it('staging=require on a CPU without staging aborts before stopping any CPU', () => {
    const r = run(machine({ staging: { archCapMcuEnum: true, mcuStaging: false } }), {
      policy: { staging: 'require' },
    });
    expect(texts(r)).toContain('microcode: Staging required but not available: late load aborted.');
    expect(r.outcome).toBe('aborted');
    expect(r.returnCode).toBe(-95);
    expect(r.stopWindow).toBeNull();
    // The kernel's own behaviour on the same machine: an ordinary late load.
    expect(run(machine({ staging: { archCapMcuEnum: true, mcuStaging: false } })).outcome).toBe('updated');
  });

  it('a mailbox nobody decodes: ioremap still maps it, STATUS reads all ones (READY|ERROR), -EIO after one poll', () => {
    const r = run(machine({ packageConfig: [{ mailboxAbsent: true }] }));
    expect(texts(r)).toContain('microcode: Error: staging failed (-5) for CPU0 at package 0.');
    expect(texts(r).some((l) => l.startsWith('WARNING:'))).toBe(false);
    expect(r.staging.packages[0]!.polls).toBe(1);
    expect(r.taints).toEqual([]);
    expect(r.outcome).toBe('updated');
  });

  it('MSR 0x7a5 #GP: the unchecked-access warning, address 0, and staging goes on there', () => {
    const r = run(machine({ packageConfig: [{}, { mailboxMsrFault: true }] }));
    const log = texts(r);
    expect(log).toContain(
      'unchecked MSR access error: RDMSR from 0x7a5 at rIP: 0x? (__rdmsr_on_cpu+0x?/0x?)',
    );
    expect(log.some((l) => l.startsWith('WARNING:'))).toBe(false);
    // Low memory reads 0: STATUS never shows READY.
    expect(log).toContain('microcode: Error: staging failed (-110) for CPU4 at package 1.');
    expect(r.staging.packages.map((p) => [p.pkg, p.mailboxPa, p.msrFault ?? false])).toEqual([
      [0, 0xfed2_0000, false],
      [1, 0, true],
    ]);
    expect(r.staging.reason).toBe('mailbox-msr-fault');
    expect(r.outcome).toBe('updated');
  });

  it('an image whose size is not a multiple of 4 is not staged', () => {
    // 4001 data bytes: the kernel's checks pass (the checksum covers whole dwords).
    const base = image({ bytes: 48 + 4000 });
    const grown = new Uint8Array(base.length + 1);
    grown.set(base);
    const img = fixMainChecksum(withHeaderField(withHeaderField(grown, 'dataSize', 4001), 'totalSize', 4049));
    const r = run(machine(), { img });
    expect(texts(r)).toContain('microcode: Microcode image 32-bit misaligned (0xfd1), staging failed.');
    expect(r.staging.packages).toHaveLength(0);
    expect(r.devices.every((d) => d.aborts === 0)).toBe(true);
  });

  it('no CPU ends on a revision different from its core siblings in any fault case', () => {
    for (const f of MATRIX) {
      const r = run(faulty({ kind: f.kind, probability: 0.2 }), {
        img: image({ bytes: IMG_BYTES }),
        seed: 3,
      });
      expect(coresConsistent(r)).toBe(true);
    }
  });
});

describe('re-send budget', () => {
  it('a device that asks for the whole image exactly twice passes the 2x budget', () => {
    const r = run(withProfile(verifyPass(0)), {
      img: image({ bytes: IMG_BYTES }),
    });
    expect(r.staging.ok).toBe(true);
    for (const p of r.staging.packages) {
      expect(p.bytesSent).toBe(2 * IMG_BYTES);
      expect(p.chunks).toBe(2 * CHUNKS);
      expect(p.resends).toBe(CHUNKS);
    }
  });

  it('one chunk more fails with -EMSGSIZE under the kernel rule', () => {
    const r = run(withProfile(verifyPass(1)), {
      img: image({ bytes: IMG_BYTES }),
    });
    expect(texts(r)).toContain('microcode: Error: staging failed (-90) for CPU0 at package 0.');
    expect(r.staging.packages[0]!.bytesSent).toBe(2 * IMG_BYTES);
  });

  it('the per-chunk policy on the same profile: passes with 1 retry allowed, fails with 0', () => {
    const profile = verifyPass(1);
    const lenient = run(withProfile(profile), {
      img: image({ bytes: IMG_BYTES }),
      policy: { budget: 'per-chunk', chunkRetries: 2 },
    });
    expect(lenient.staging.ok).toBe(true);
    const strict = run(withProfile(profile), {
      img: image({ bytes: IMG_BYTES }),
      policy: { budget: 'per-chunk', chunkRetries: 0 },
    });
    expect(strict.staging.errno).toBe(-90);
    // It stops at the first chunk asked for again, after one pass.
    expect(strict.staging.packages[0]!.bytesSent).toBe(IMG_BYTES);
  });

  it('rerequest-forever is cut by the 2x budget after exactly 2x the image', () => {
    const r = run(faulty({ kind: 'rerequest-forever', atTransaction: 0 }, 0), {
      img: image({ bytes: IMG_BYTES }),
    });
    expect(r.staging.packages[0]!.bytesSent).toBe(2 * IMG_BYTES);
  });
});

describe('poll policy', () => {
  it('the fine poll finishes staging much sooner than msleep(1) at HZ=250', () => {
    const slow = run(machine({ cost: { hz: 250 } }), { img: image({ bytes: IMG_BYTES }) });
    const fine = run(machine({ cost: { hz: 250 } }), {
      img: image({ bytes: IMG_BYTES }),
      policy: { poll: 'fine', pollUs: 10 },
    });
    // msleep(1) at HZ=250 sleeps 4-8 ms per chunk.
    expect(slow.staging.durationNs / (2 * CHUNKS)).toBeGreaterThanOrEqual(4e6);
    expect(slow.staging.durationNs / (2 * CHUNKS)).toBeLessThanOrEqual(8.1e6);
    expect(fine.staging.durationNs).toBeLessThan(slow.staging.durationNs / 10);
  });

  it('kernels before 6.12 sleep one jiffy more per poll', () => {
    const now = run(machine(), { img: image({ bytes: IMG_BYTES }) });
    const old = run(machine({ cost: { kernelGeneration: 'pre-6.12' } }), {
      img: image({ bytes: IMG_BYTES }),
    });
    const perChunk = (r: typeof now) => r.staging.durationNs / r.staging.chunks;
    expect(perChunk(old) - perChunk(now)).toBeGreaterThan(0.9e6);
  });
});
