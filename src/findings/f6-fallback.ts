import { KERNEL_LIMITS } from '../kernel/limits.js';
import type { SimulationResult } from '../sim/result-types.js';
import type { SimulateOptions } from '../sim/simulate.js';
import { DEFAULT_COST_MODEL } from '../time/cost-model.js';
import { type Finding, finding } from './finding.js';
import { code, grouped, seconds, sized, table, times } from './format.js';
import { LARGEST_PUBLIC_BLOB, PACKAGE_MAJOR_PRESETS } from './machines.js';
import type { Measured, Runner } from './runner.js';

/** Staging fails at once (ERROR at the first GO): the load goes on unstaged. */
const FAILING: Pick<SimulateOptions, 'faults'> = {
  faults: [{ value: { kind: 'error-status', atTransaction: 0 } }],
};
/** The largest image the staging mailbox takes (docs/mailbox-device.md). */
const MAILBOX_MAX_BYTES = 16 * 1024 * 1024;

function panicked(r: SimulationResult): boolean {
  return r.outcome === 'panic';
}

/**
 * The largest image (a multiple of 4 bytes) whose unstaged apply a sibling
 * survives, found where the cost model puts it and checked by simulating it and
 * the next size up. The sibling gives up after wait_for_ctrl()'s 1,000,000 steps
 * of 1 us; its primary needs two revision reads and the WRMSR 0x79.
 */
function threshold(runner: Runner, machine: string): { ok: Measured; panic: Measured } {
  const c = DEFAULT_COST_MODEL;
  const revisionRead = 2 * c.msrAccessNs + c.revisionReadNs;
  const budgetNs = KERNEL_LIMITS.siblingWaitUs * 1000 - 1000 - 2 * revisionRead - c.applyUnstagedBaseNs;
  let size = 4 * Math.floor(budgetNs / c.applyUnstagedPerByteNs / 4);
  const at = (bytes: number) => runner.run({ machine, syntheticImageBytes: bytes, ...FAILING });
  for (let step = 0; step < 16; step++) {
    const ok = at(size);
    if (panicked(ok.r)) {
      size -= 4;
      continue;
    }
    const next = at(size + 4);
    if (panicked(next.r)) return { ok, panic: next };
    size += 4;
  }
  throw new Error(`${machine}: no panic threshold near ${size} bytes (has the cost model changed?)`);
}

/** Finding 6: the unstaged fallback and the siblings' 1 s wait. */
export function fallbackFinding(runner: Runner): Finding {
  const rows: string[][] = [];
  const requireRows: string[][] = [];
  let gnr: { ok: Measured; panic: Measured } | undefined;
  for (const machine of PACKAGE_MAJOR_PRESETS) {
    const smt = runner.run({ machine }).r.machine.threadsPerCore > 1;
    if (!smt) {
      const big = runner.run({ machine, syntheticImageBytes: MAILBOX_MAX_BYTES, ...FAILING }).r;
      rows.push([
        machine,
        'no',
        'any (no sibling waits)',
        '-',
        '-',
        `${seconds(big.stopWindow!.durationNs)} at ${sized(MAILBOX_MAX_BYTES)}, ${big.outcome}`,
      ]);
      continue;
    }
    const t = threshold(runner, machine);
    if (machine === 'gnr-2s') gnr = t;
    const size = t.ok.r.image!.totalSize;
    rows.push([
      machine,
      'yes',
      sized(size),
      grouped(t.panic.r.image!.totalSize),
      times(size / LARGEST_PUBLIC_BLOB.bytes),
      seconds(t.ok.r.stopWindow!.durationNs),
    ]);
    const req = runner.run({
      machine,
      syntheticImageBytes: t.panic.r.image!.totalSize,
      ...FAILING,
      policy: { staging: 'require' },
    }).r;
    requireRows.push([
      machine,
      grouped(t.panic.r.image!.totalSize),
      t.panic.r.staging.attempted
        ? `${t.panic.r.outcome} (staging failed, unstaged apply)`
        : `${t.panic.r.outcome} (no staging: every load is unstaged)`,
      `${req.outcome}, returns ${req.returnCode} (${req.returnCodeName})`,
      req.stopWindow ? seconds(req.stopWindow.durationNs) : 'no CPU stopped',
    ]);
  }
  const g = gnr!;
  const cliff = g.ok.r.image!.totalSize;
  const first = g.panic.r.image!.totalSize;
  const staged = runner.run({ machine: 'gnr-2s', syntheticImageBytes: first }).r;
  const overCap = runner.run({ machine: 'gnr-2s', syntheticImageBytes: MAILBOX_MAX_BYTES + 4096 }).r;
  const normal = runner.run({ machine: 'gnr-2s', ...FAILING }).r;
  // The unstaged cost per byte that would put the cliff at today's largest blob.
  const perByteToday =
    (KERNEL_LIMITS.siblingWaitUs * 1000 - DEFAULT_COST_MODEL.applyUnstagedBaseNs) / LARGEST_PUBLIC_BLOB.bytes;
  return finding({
    n: 6,
    title: 'The fallback: how large an unstaged image the SMT siblings survive',
    headline: `with staging failing, an image above ${sized(cliff)} panics gnr-2s (the sibling waits 1 s for its primary's unstaged WRMSR 0x79); Intel's largest public blob is ${grouped(LARGEST_PUBLIC_BLOB.bytes)} bytes, ${times(cliff / LARGEST_PUBLIC_BLOB.bytes)} below it`,
    code: `When ${code('stage_microcode()')} fails it prints the error and returns; ${code('load_late_stop_cpus()')} goes on with the ordinary late load. Inside ${code('stop_machine()')} each SMT sibling waits in ${code('wait_for_ctrl()')} for its primary thread's verdict, ${code('USEC_PER_SEC')} iterations of ${code('udelay(1)')}, then calls ${code('panic("Microcode load: Primary CPU %d timed out")')}. The primary's ${code('apply_microcode_late()')} is one WRMSR 0x79 of the whole image, which without a staged copy grows with the image (2 ms + 60 ns per byte in the model: an assumption, docs/cost-model.md).`,
    reproduce: [g.ok.command, `${g.panic.command}   # 4 bytes more: panic`],
    measured: [
      `The largest image that survives the unstaged load (staging failed at its first transaction), found where the cost model puts the 1 s and checked by simulating it and the next size up; HZ and the kernel generation do not enter (the waits inside ${code('stop_machine()')} are ${code('udelay()')} steps):`,
      '',
      ...table(
        [
          'preset',
          'SMT',
          ['largest image that survives', 'right'],
          ['first that panics', 'right'],
          ['x largest public blob', 'right'],
          ['stop window at the largest', 'right'],
        ],
        rows,
      ),
      '',
      `Intel's largest public blob today is ${grouped(LARGEST_PUBLIC_BLOB.bytes)} bytes (${LARGEST_PUBLIC_BLOB.file}, revision 0x${LARGEST_PUBLIC_BLOB.revision.toString(16)}, ${LARGEST_PUBLIC_BLOB.release}): its unstaged apply takes ${seconds(normal.stopWindow!.durationNs)} of stop window, and images would have to grow ${times(cliff / LARGEST_PUBLIC_BLOB.bytes)} before the fallback panics an SMT machine under these assumptions. The margin is only as good as the linear cost assumption: at ${perByteToday.toFixed(0)} ns per byte (${times(perByteToday / DEFAULT_COST_MODEL.applyUnstagedPerByteNs)} the model's 60) the cliff would be at today's size. Without SMT nothing waits on a primary, so a long apply is only a long stop window. With staging working the same ${grouped(first)}-byte image applies in ${seconds(staged.stopWindow!.durationNs)} (${staged.outcome}), but the mailbox refuses an image over 16 MiB: at ${grouped(overCap.image!.totalSize)} bytes staging fails (${overCap.staging.errnoName}) and the machine ${overCap.outcome === 'panic' ? 'panics' : `ends ${overCap.outcome}`}.`,
    ],
    proposal: [
      `Do not fall back to an unstaged load the siblings cannot survive: abort the load when staging fails (the "staging must succeed" policy the series left for follow-up work), or at least when the image is larger than the unstaged apply can be within ${code('wait_for_ctrl()')}'s second. The first is modelled by ${code('--staging require')} (its abort line is marked as ours).`,
    ],
    withProposal: [
      ...table(['preset', ['image', 'right'], '6.19', '`--staging require`', 'stop window'], requireRows),
      '',
      `The write returns the staging errno (${code('-EOPNOTSUPP')} where staging is not enumerated: there the policy refuses every late load) and no CPU is stopped; the running microcode stays as it was.`,
    ],
    evidence: [
      `When staging fails, load_late_stop_cpus() falls back to the unstaged late load, whose WRMSR 0x79 grows with the image. An SMT sibling waits one second for its primary in wait_for_ctrl() and then panics. With a cost of 2 ms + 60 ns per byte for the unstaged write (scaled from the public 2-5 ms per 32 KB estimate), a model of a 2 x 128-core Granite Rapids-class machine survives a ${grouped(cliff)}-byte image and panics at ${grouped(first)} bytes, ${times(cliff / LARGEST_PUBLIC_BLOB.bytes)} the largest public image today; the margin shrinks with every release and with every error in the linear estimate. Abort the load when staging fails and the unstaged apply cannot finish within the siblings' wait.`,
    ],
  });
}
