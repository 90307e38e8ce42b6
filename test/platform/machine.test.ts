import { describe, expect, it } from 'vitest';
import { buildMicrocode } from '../../src/format/index.js';
import { MsrFault } from '../../src/platform/host-port.js';
import { Machine } from '../../src/platform/machine.js';
import { type MachineSpecInput, parseMachineSpec } from '../../src/platform/machine-spec.js';
import { PRESETS } from '../../src/platform/presets.js';
import { buildTopology } from '../../src/platform/topology.js';
import { applyCostNs, DEFAULT_COST_MODEL } from '../../src/time/cost-model.js';

const BASE: MachineSpecInput = {
  name: 't',
  packages: 2,
  coresPerPackage: 3,
  threadsPerCore: 2,
  signature: 0xa06d1,
  platformId: 2,
  initialRevision: 0x100,
  staging: { archCapMcuEnum: true, mcuStaging: true },
};
const spec = (over: Partial<MachineSpecInput> = {}) => parseMachineSpec({ ...BASE, ...over });

describe('machine description', () => {
  it('every preset is valid', () => {
    for (const p of Object.values(PRESETS)) expect(() => parseMachineSpec(p)).not.toThrow();
  });

  it.each([
    [{ packages: 0 }, "machine field 'packages'"],
    [{ coresPerPackage: 100_000 }, "machine field 'coresPerPackage'"],
    [{ threadsPerCore: 3 } as unknown as Partial<MachineSpecInput>, "machine field 'threadsPerCore'"],
    [{ cost: { mmioWriteNs: -1 } }, "machine field 'cost.mmioWriteNs'"],
    [{ offlineCpus: [99] }, "machine field 'offlineCpus.0': CPU 99 does not exist (12 CPUs)"],
    [{ sockets: 2 } as Partial<MachineSpecInput>, 'sockets'],
    [{ signature: 'a06d1' } as unknown as Partial<MachineSpecInput>, "machine field 'signature'"],
  ])('rejects %j naming the field', (over, message) => {
    expect(() => spec(over)).toThrow(message);
  });
});

describe('topology, as Linux derives it', () => {
  it('package-major, SMT last: primaries first, APIC ids with SMT bits', () => {
    const t = buildTopology(spec());
    expect(Array.from(t.packageOf)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
    expect(Array.from(t.isPrimary)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    // 2 SMT bits? no: 1 SMT bit, 2 core bits (3 cores) → package shift 3.
    expect(Array.from(t.apicId)).toEqual([0, 2, 4, 8, 10, 12, 1, 3, 5, 9, 11, 13]);
    expect(Array.from(t.coreCpus[0]!)).toEqual([0, 6]);
    for (let cpu = 0; cpu < t.cpus; cpu++) expect(t.isPrimary[cpu]).toBe((t.apicId[cpu]! & 1) === 0 ? 1 : 0);
  });

  it('interleaved: NUMA node0 gets the even CPUs', () => {
    const t = buildTopology(spec({ numbering: { packages: 'interleaved', smt: 'last' } }));
    expect(Array.from(t.packageOf)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it("adjacent SMT: a core's threads are consecutive CPUs", () => {
    const t = buildTopology(spec({ numbering: { packages: 'package-major', smt: 'adjacent' } }));
    expect(Array.from(t.coreOf)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it('no SMT: every CPU is a primary thread; 4 threads: one in four', () => {
    expect(buildTopology(spec({ threadsPerCore: 1 })).isPrimary.every((p) => p === 1)).toBe(true);
    const t4 = buildTopology(spec({ threadsPerCore: 4 }));
    expect(t4.isPrimary.reduce((a, b) => a + b, 0)).toBe(6);
  });
});

describe('MSRs', () => {
  it('enumeration bits, platform id, per-package mailbox address', () => {
    const m = new Machine(spec());
    expect(m.rdmsr(0, 0x10a) & (1n << 16n)).toBe(1n << 16n);
    expect(m.rdmsr(0, 0x7b) & 16n).toBe(16n);
    expect((m.rdmsr(0, 0x17) >> 50n) & 7n).toBe(2n);
    expect(m.rdmsr(0, 0x7a5)).toBe(0xfed20000n);
    expect(m.rdmsr(3, 0x7a5)).toBe(0xfed21000n);
    expect(m.rdmsr(9, 0x7a5)).toBe(0xfed21000n);
  });

  it('#GP for unimplemented MSRs, for 0x7b without ARCH_CAP bit 16, for 0x7a5 without staging, for reading 0x79', () => {
    const noEnum = new Machine(spec({ staging: { archCapMcuEnum: false, mcuStaging: true } }));
    expect(() => noEnum.rdmsr(0, 0x7b)).toThrow(MsrFault);
    expect(() => noEnum.rdmsr(0, 0x7a5)).toThrow(MsrFault);
    const m = new Machine(spec());
    expect(() => m.rdmsr(0, 0x1234)).toThrow('#GP on RDMSR 0x1234 on CPU 0');
    expect(() => m.rdmsr(0, 0x79)).toThrow(MsrFault);
    expect(() => m.wrmsr(0, 0x10a, 0n)).toThrow(MsrFault);
  });

  it('MSR 0x8b gives the revision only after the architectural sequence', () => {
    const m = new Machine(spec());
    expect(m.rdmsr(0, 0x8b)).toBe(0n);
    m.wrmsr(0, 0x8b, 0n);
    expect(m.cpuidEax(0, 1)).toBe(0xa06d1);
    expect(m.rdmsr(0, 0x8b) >> 32n).toBe(0x100n);
  });
});

describe('the microcode engine (WRMSR 0x79)', () => {
  const image = (rev: number, sig = 0xa06d1, pf = 0x04) =>
    buildMicrocode({
      signature: sig,
      processorFlags: pf,
      revision: rev,
      dataSize: 16 * 1024,
      minRequiredRevision: 1,
    });
  const load = (m: Machine, cpu: number, img: Uint8Array) => {
    const pa = m.placeBuffer(img);
    const t0 = m.now();
    m.wrmsr(cpu, 0x79, BigInt(pa + 48));
    return { pa, ns: m.now() - t0, rec: m.applyLog.at(-1)! };
  };

  it('updates both threads of the core and nothing else, at the unstaged cost', () => {
    const m = new Machine(spec());
    const img = image(0x200);
    const { ns } = load(m, 1, img);
    expect(m.revisionOf(1)).toBe(0x200);
    expect(m.revisionOf(7)).toBe(0x200);
    expect(m.revisionOf(0)).toBe(0x100);
    expect(ns).toBe(applyCostNs(DEFAULT_COST_MODEL, img.length, false));
  });

  it('leaves the core alone for another CPU, a bad checksum, or an older revision', () => {
    const m = new Machine(spec());
    expect(load(m, 0, image(0x200, 0xa06f3)).rec.reason).toBe('signature or platform does not match');
    expect(load(m, 0, image(0x200, 0xa06d1, 0x01)).rec.reason).toBe('signature or platform does not match');
    const bad = image(0x200);
    bad[1000] ^= 0xff;
    expect(load(m, 0, bad).rec.reason).toBe('image failed authentication');
    expect(load(m, 0, image(0x80)).rec.reason).toBe('revision not newer');
    expect(m.revisionOf(0)).toBe(0x100);
  });

  it('a completed stage of the same image costs activation only; another revision through the MSR wins at full cost', () => {
    const m = new Machine(spec());
    const staged = image(0x200);
    stageDirectly(m, 0, staged);
    expect(m.devices[0]!.stagedRevision()).toBe(0x200);
    const a = load(m, 0, staged);
    expect(a.rec.staged).toBe(true);
    expect(a.ns).toBe(applyCostNs(DEFAULT_COST_MODEL, staged.length, true));
    // Package 1 was never staged: rule (a).
    expect(load(m, 3, staged).rec.staged).toBe(false);
    // Rule (c): a different revision written through the MSR wins, unstaged.
    const other = image(0x300);
    const c = load(m, 1, other);
    expect(c.rec.staged).toBe(false);
    expect(m.revisionOf(1)).toBe(0x300);
  });

  it('re-staging a package with another image holds exactly the new image; the old copy is never written', () => {
    const m = new Machine(spec());
    const first = image(0x200);
    stageDirectly(m, 0, first);
    const firstCopy = m.devices[0]!.stagedImage()!;
    // Same size, different bytes: a stale byte of the first image would show.
    const second = image(0x300);
    stageDirectly(m, 0, second, 2);
    stageDirectly(m, 0, second);
    const staged = m.devices[0]!.stagedImage()!;
    expect(Array.from(staged)).toEqual(Array.from(second));
    expect(m.devices[0]!.stagedRevision()).toBe(0x300);
    expect(Array.from(firstCopy)).toEqual(Array.from(first));
  });

  it('packages and machines that stage the same image share one staged buffer', () => {
    const img = image(0x400);
    const a = new Machine(spec());
    const b = new Machine(spec());
    stageDirectly(a, 0, img);
    stageDirectly(a, 1, img);
    stageDirectly(b, 1, img);
    const copies = [a.devices[0]!, a.devices[1]!, b.devices[1]!].map((d) => d.stagedImage()!);
    for (const c of copies) expect(Array.from(c)).toEqual(Array.from(img));
    expect(new Set(copies.map((c) => c.buffer)).size).toBe(1);
    for (const m of [a, b]) expect(load(m, m.topology.cpus - 1, img).rec.staged).toBe(true);
  });

  it('rule (b): while a transfer is in progress the MSR write still loads, slowly', () => {
    const m = new Machine(spec());
    const img = image(0x200);
    stageDirectly(m, 0, img, 2);
    expect(m.devices[0]!.inProgress()).toBe(true);
    const r = load(m, 0, img);
    expect(r.rec.outcome).toBe('updated');
    expect(r.rec.staged).toBe(false);
  });
});

/** Push an image through the package's mailbox as a correct host would, optionally stopping after `chunks`. */
function stageDirectly(m: Machine, pkg: number, img: Uint8Array, chunks = Number.POSITIVE_INFINITY): void {
  const va = m.ioremap(m.mailboxAddress(pkg), 16);
  const words = new Uint32Array(img.buffer, img.byteOffset, img.length / 4);
  m.writel(1, va);
  let offset = 0;
  for (let n = 0; n < chunks && offset !== 0xffffffff; n++) {
    const size = Math.min(4096, img.length - offset);
    for (const w of [0x000b8086, (16 + size) / 4, 3, 0]) m.writel(w, va + 8);
    for (let i = offset / 4; i < (offset + size) / 4; i++) m.writel(words[i]!, va + 8);
    m.writel(0x80000000, va);
    while (!(m.readl(va + 4) & 0x80000000)) m.msleep(1);
    const resp: number[] = [];
    for (let i = 0; i < 4; i++) {
      resp.push(m.readl(va + 12));
      m.writel(0, va + 12);
    }
    offset = resp[2]!;
  }
  m.iounmap(va);
}
