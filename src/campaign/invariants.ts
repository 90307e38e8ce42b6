import type { PackageStaging } from '../kernel/intel/staging-report.js';
import { MODEL_LIMITS } from '../kernel/limits.js';
import type { MailboxTransaction, MisuseRecord } from '../platform/mailbox/device.js';
import type { SimulationResult } from '../sim/result-types.js';
import {
  answerErrno,
  KERNEL_FACTS,
  MAILBOX,
  pollLimit,
  passTransactions as transactionsOfPass,
} from './kernel-facts.js';
import { rendezvousTiming, stagingLimits } from './limit-checks.js';
import { type DrawnRun, FAULT_ERRNO } from './space.js';

/** What the hardware held after a run (read in simulate()'s onFinish hook). */
export interface HardwareState {
  /** The image the campaign asked for (rebuilt independently: the driver drops its copy on failure). */
  image: Uint8Array;
  /** The image's revision (dword at byte 4). */
  imageRevision: number;
  /** Per package: the device's staged copy (undefined: none, or no device). */
  staged: (Uint8Array | undefined)[];
  stagedRevision: (number | undefined)[];
  /** Per package: every GO the device saw, and every protocol misuse it recorded. */
  transactions: (readonly MailboxTransaction[] | undefined)[];
  misuse: (readonly MisuseRecord[] | undefined)[];
}

/** One campaign run: what was drawn, what happened, and what the hardware held. */
export interface RunRecord {
  index: number;
  run: DrawnRun;
  result: SimulationResult | undefined;
  /** simulate() threw: a SimulationLimitError (virtual time ran out) or anything else. */
  error: { name: string; message: string } | undefined;
  hardware: HardwareState | undefined;
  /** JSON of the result (trace excluded), when computed. */
  json?: string;
  /** JSON of a second run of the same seed, when this run was sampled for the determinism check. */
  replayJson?: string;
}

export interface Violation {
  invariant: InvariantName;
  message: string;
}

export const INVARIANT_NAMES = [
  'terminates',
  'staged-copy-identical',
  'staged-copy-ready-before-use',
  'revisions-consistent',
  'rendezvous-timing',
  'staging-errno-matches-fault',
  'staging-limits',
  'policy-obeyed',
  'mailbox-protocol-conformant',
  'deterministic',
] as const;
export type InvariantName = (typeof INVARIANT_NAMES)[number];

export interface Invariant {
  name: InvariantName;
  /** One line: what the invariant promises. */
  description: string;
  check: (rec: RunRecord) => Violation | undefined;
}

// The kernel's bounds come from the campaign's own copy (kernel-facts.ts), never from
// the model's KERNEL_LIMITS: the checks must not move when the model does.
const CHUNK = KERNEL_FACTS.stagingChunkBytes;
const BUDGET_FACTOR = KERNEL_FACTS.stagingBudgetFactor;
const END_OFFSET = MAILBOX.endOffset;
const RESP_ERROR = MAILBOX.respError;
const STATUS_ERROR = MAILBOX.statusError;
/** Outcomes in which the reload write never returns. */
const NEVER_RETURNS = new Set(['panic', 'hang', 'kernel-does-not-terminate']);

const violation = (invariant: InvariantName, message: string): Violation => ({ invariant, message });

/** The result as the determinism check compares it: everything but the (optional) trace. */
export function resultJson(result: SimulationResult): string {
  return JSON.stringify({ ...result, trace: undefined });
}

// ---- every run ends ----

function terminates(rec: RunRecord): Violation | undefined {
  const v = (m: string) => violation('terminates', m);
  if (rec.error) return v(`simulate() threw ${rec.error.name}: ${rec.error.message}`);
  const r = rec.result;
  if (!r) return v('no result');
  if (!Number.isFinite(r.reload.endNs)) return v(`the reload write never returned (end ${r.reload.endNs})`);
  if (NEVER_RETURNS.has(r.outcome) !== (r.writeReturn === null)) {
    return v(
      `outcome '${r.outcome}' but the write ${r.writeReturn === null ? 'never returns' : `returns ${r.writeReturn}`}`,
    );
  }
  if ((r.outcome === 'hang' || r.outcome === 'kernel-does-not-terminate') && !r.stuck) {
    return v(`outcome '${r.outcome}' without saying where the kernel is stuck`);
  }
  if (r.outcome === 'kernel-does-not-terminate') {
    const why = neverEnds(rec);
    if (why) return v(why);
  }
  const len = rec.run.imageBytes;
  const m = r.machine;
  const maxPasses = m.packages * m.coresPerPackage;
  if (r.staging.packages.length > maxPasses) {
    return v(`${r.staging.packages.length} staging passes for ${maxPasses} primary threads`);
  }
  for (const p of r.staging.packages) {
    const bound = chunkBound(r, len, rec.run.fault?.kind === 'respond');
    if (p.chunks > bound)
      return v(`package ${p.pkg}: ${p.chunks} chunks sent, the budget allows at most ${bound}`);
    const pollBound = (p.chunks || 1) * pollLimit(r.policy);
    if (p.polls > pollBound)
      return v(`package ${p.pkg}: ${p.polls} STATUS polls, at most ${pollBound} possible`);
    if (r.policy.budget === '2x' && p.bytesSent > BUDGET_FACTOR * len) {
      return v(
        `package ${p.pkg}: ${p.bytesSent} bytes sent for a ${len}-byte image (${BUDGET_FACTOR}x budget)`,
      );
    }
  }
  return undefined;
}

/**
 * Most GOs one pass can issue under the policy's budget. A scripted device can
 * move the transfer off the 4 KB grid: chunks as small as one byte, and up to the
 * model's bound of empty ones before the run is reported as never ending.
 */
function chunkBound(r: SimulationResult, len: number, scripted: boolean): number {
  const chunks = Math.ceil(len / CHUNK);
  if (r.policy.budget === 'per-chunk') return (chunks + 1) * (r.policy.chunkRetries + 1);
  if (scripted) return BUDGET_FACTOR * len + MODEL_LIMITS.stagingNoProgressIterations;
  const smallest = len % CHUNK || CHUNK;
  return Math.floor((BUDGET_FACTOR * len) / Math.min(CHUNK, smallest)) + 1;
}

/**
 * A run reported as never ending must be one: its last staging pass ends with
 * the model's bound of transactions in a row that carried no bytes, each
 * answered with the image length as the next offset (the one way do_stage()
 * loops for ever). Returns why not, or undefined.
 */
function neverEnds(rec: RunRecord): string | undefined {
  const r = rec.result!;
  const hw = rec.hardware;
  const pass = r.staging.packages.at(-1);
  if (r.staging.reason !== 'does-not-terminate' || !pass) {
    return "outcome 'kernel-does-not-terminate' but staging did not stop in a loop";
  }
  if (!hw) return undefined;
  const txs = passTransactions(hw, pass);
  const n = MODEL_LIMITS.stagingNoProgressIterations;
  const tail = txs.slice(-n);
  const len = rec.run.imageBytes;
  if (tail.length < n || tail.some((t) => t.bytes !== 0 || t.nextOffset !== len)) {
    return `outcome 'kernel-does-not-terminate', but the last ${n} transactions of package ${pass.pkg} are not all empty requests answered with offset ${len}`;
  }
  return undefined;
}

// ---- a completed staging left a byte-identical copy ----

function stagedCopyIdentical(rec: RunRecord): Violation | undefined {
  const v = (m: string) => violation('staged-copy-identical', m);
  const r = rec.result;
  const hw = rec.hardware;
  if (!r || !hw) return undefined;
  const image = hw.image;
  if (r.image && (r.image.revision !== hw.imageRevision || r.image.totalSize !== image.length)) {
    return v(
      `the driver loaded revision ${hex(r.image.revision)} (${r.image.totalSize} bytes), not the image asked for`,
    );
  }
  for (let p = 0; p < hw.staged.length; p++) {
    const staged = hw.staged[p];
    if (staged === undefined) continue;
    const diff = firstDifference(staged, image);
    if (diff !== undefined) {
      return v(
        `package ${p}: staged copy differs from the image at byte ${diff} (${staged.length} vs ${image.length} bytes)`,
      );
    }
    if (hw.stagedRevision[p] !== hw.imageRevision) {
      return v(
        `package ${p}: staged revision ${hex(hw.stagedRevision[p])} is not the image's ${hex(hw.imageRevision)}`,
      );
    }
    if (r.devices[p]?.stagedRevision !== (hw.stagedRevision[p] ?? null)) {
      return v(
        `package ${p}: the result reports staged revision ${hex(r.devices[p]?.stagedRevision)}, the device holds ${hex(hw.stagedRevision[p])}`,
      );
    }
  }
  for (const pass of lastPassPerPackage(r.staging.packages)) {
    // A scripted device may say END without holding a copy; the host cannot tell.
    const scripted = passTransactions(hw, pass).some((t) => t.fault === 'respond');
    if (
      pass.errno === 0 &&
      r.outcome !== 'kernel-does-not-terminate' &&
      !scripted &&
      hw.staged[pass.pkg] === undefined
    ) {
      return v(`package ${pass.pkg} staged successfully but its mailbox holds no staged copy`);
    }
  }
  for (const a of r.applies) {
    const pkg = r.cpus[a.cpu]?.package;
    // The copy the device holds at the end existed from its ready time on.
    const readyNs = pkg === undefined ? null : (r.devices[pkg]?.stagedAtNs ?? null);
    const holds =
      pkg !== undefined && hw.staged[pkg] !== undefined && readyNs !== null && readyNs <= a.startNs;
    if (a.staged ? !holds : holds && a.outcome === 'updated') {
      // Rules (a)-(c): only a completed stage of this image makes WRMSR 0x79 activation-only, and then always.
      return v(
        `CPU ${a.cpu} applied ${a.staged ? 'as staged' : 'unstaged'} but package ${pkg} ${holds ? 'holds' : 'holds no'} staged copy`,
      );
    }
  }
  return undefined;
}

// ---- a staged copy is used only once the device has finished it ----

/**
 * Rules (a)-(c) with time: WRMSR 0x79 can use a staged copy only if the device
 * had completed it when the write began (the ready time of the transaction that
 * completed it), whatever the host saw: a host that timed out before then left
 * the device still working, and the apply finds no copy.
 */
function stagedCopyReadyBeforeUse(rec: RunRecord): Violation | undefined {
  const v = (m: string) => violation('staged-copy-ready-before-use', m);
  const r = rec.result;
  if (!r) return undefined;
  for (const a of r.applies) {
    if (!a.staged) continue;
    const pkg = r.cpus[a.cpu]?.package;
    const device = pkg === undefined ? undefined : r.devices[pkg];
    if (!device || device.stagedAtNs === null) {
      return v(
        `CPU ${a.cpu} applied as staged at ${a.startNs} ns but package ${pkg} never completed a staged copy`,
      );
    }
    if (device.stagedAtNs > a.startNs) {
      return v(
        `CPU ${a.cpu} applied as staged at ${a.startNs} ns, before package ${pkg}'s copy was complete at ${device.stagedAtNs} ns`,
      );
    }
  }
  return undefined;
}

function lastPassPerPackage(passes: readonly PackageStaging[]): PackageStaging[] {
  const last = new Map<number, PackageStaging>();
  for (const p of passes) last.set(p.pkg, p);
  return [...last.values()];
}

function firstDifference(a: Uint8Array, b: Uint8Array): number | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? undefined : n;
}

// ---- no silent mix of revisions ----

const FAILED_RESULTS = new Set(['error', 'timeout', 'unset', 'not-found']);
const NOTHING_CHANGES = new Set([
  'aborted',
  'busy',
  'not-found',
  'bad-firmware',
  'hang',
  'no-change',
  'failed',
  'kernel-does-not-terminate',
]);

function revisionsConsistent(rec: RunRecord): Violation | undefined {
  const v = (m: string) => violation('revisions-consistent', m);
  const r = rec.result;
  if (!r) return undefined;
  const oldRev = r.machine.initialRevision;
  const newRev = r.image?.revision ?? rec.hardware?.imageRevision;
  const byCore = new Map<string, number>();
  for (const c of r.cpus) {
    if (c.revisionAfter !== oldRev && c.revisionAfter !== newRev) {
      return v(
        `CPU ${c.cpu} ends at ${hex(c.revisionAfter)}, neither the old ${hex(oldRev)} nor the image's ${hex(newRev)}`,
      );
    }
    const key = `${c.package}:${c.core}`;
    const seen = byCore.get(key);
    if (seen !== undefined && seen !== c.revisionAfter) {
      return v(
        `core ${c.core} of package ${c.package} mixes revisions ${hex(seen)} and ${hex(c.revisionAfter)}`,
      );
    }
    byCore.set(key, c.revisionAfter);
    if ((c.result === 'updated' || c.result === 'ok') && c.revisionAfter !== newRev) {
      return v(`CPU ${c.cpu} reports '${c.result}' but runs ${hex(c.revisionAfter)}, not ${hex(newRev)}`);
    }
  }
  const changed = r.cpus.filter((c) => c.revisionAfter !== oldRev);
  const unchanged = r.cpus.filter((c) => c.revisionAfter === oldRev);
  const tally = { updated: 0, siblings: 0, failed: 0, timedOut: 0, offline: 0 };
  for (const c of r.cpus) {
    if (c.result === 'updated') tally.updated++;
    else if (c.result === 'ok') tally.siblings++;
    else if (c.result === 'timeout') tally.timedOut++;
    else if (c.result === 'offline') tally.offline++;
    else tally.failed++;
  }
  const loadRan = r.stopWindow !== null;
  if (loadRan) {
    for (const k of Object.keys(tally) as (keyof typeof tally)[]) {
      if (r.counts[k] !== tally[k])
        return v(`the result counts ${r.counts[k]} ${k}, the CPU records say ${tally[k]}`);
    }
  }
  if (NOTHING_CHANGES.has(r.outcome) && changed.length > 0) {
    return v(`outcome '${r.outcome}' but ${changed.length} CPUs changed revision (CPU ${changed[0]!.cpu})`);
  }
  if (r.outcome === 'updated') {
    if (r.returnCode !== 0) return v(`outcome 'updated' with return code ${r.returnCode}`);
    if (unchanged.length > 0 && newRev !== oldRev) {
      return v(
        `outcome 'updated' but ${unchanged.length} CPUs still run ${hex(oldRev)} (CPU ${unchanged[0]!.cpu})`,
      );
    }
  }
  if (r.outcome === 'panic') {
    if (!r.panicMessage) return v("outcome 'panic' without a panic message");
    // panic() stops the machine: nothing starts after it.
    const panicNs = r.log.find((l) => l.text.startsWith('Kernel panic - not syncing: '))?.timeNs;
    const late = r.cpus.find((c) => panicNs !== undefined && c.applyStartNs > panicNs);
    if (late)
      return v(
        `CPU ${late.cpu} began its apply at ${late.applyStartNs} ns, after the panic at ${panicNs} ns`,
      );
  }
  if (r.outcome === 'partial' || (changed.length > 0 && unchanged.length > 0 && r.outcome !== 'panic')) {
    if (r.outcome !== 'partial')
      return v(`revisions mixed across the machine but the outcome is '${r.outcome}'`);
    if (r.returnCode === 0) return v("outcome 'partial' with return code 0");
    const onlineOld = unchanged.filter((c) => c.online);
    for (const c of onlineOld) {
      if (!FAILED_RESULTS.has(c.result))
        return v(`CPU ${c.cpu} runs the old revision but its result is '${c.result}'`);
      // A sibling copies its primary's verdict without applying: the primary's record says why.
      const why = (cpu: number) =>
        r.applies.some((a) => a.cpu === cpu && a.outcome === 'rejected' && a.reason);
      if (c.result === 'error' && !why(c.cpu) && !why(c.ctrlCpu)) {
        return v(`CPU ${c.cpu} failed ('error') but no apply record says why`);
      }
    }
    const missing = r.machine.onlineCpus - (r.counts.updated + r.counts.siblings);
    const line = `microcode: load incomplete. ${missing} CPUs timed out or failed`;
    if (!r.log.some((l) => l.text === line)) return v(`a partial load without the line '${line}'`);
  }
  return undefined;
}

// ---- errno and log line of a staging failure ----

/** The faults that end a staging pass at the transaction they fire on. */
const IMMEDIATE = new Set([
  'error-status',
  'error-status-not-ready',
  'never-ready',
  'bad-header',
  'offset-past-end',
  'response-error',
]);

function stagingErrnoMatchesFault(rec: RunRecord): Violation | undefined {
  const v = (m: string) => violation('staging-errno-matches-fault', m);
  const r = rec.result;
  const hw = rec.hardware;
  if (!r || !hw) return undefined;
  const exp = rec.run.expectation;
  const lines = r.log.map((l) => l.text);
  const failLines = lines.filter((l) => l.includes('Error: staging failed ('));
  const st = r.staging;
  const len = rec.run.imageBytes;

  // Every primary thread is online under the hotplug lock: the cross-call cannot fail.
  if (st.reason === 'cross-call-failed')
    return v('rdmsrq_on_cpu() failed, yet every primary thread is online');
  const msrFaulted = st.packages.filter((p) => p.msrFault);
  for (const p of msrFaulted) {
    if (rec.run.fault?.kind !== 'mailbox-msr-fault' || !exp.faultPackages.includes(p.pkg)) {
      return v(`MSR 0x7a5 faulted on package ${p.pkg}, where no MSR fault was injected`);
    }
    // The plain RDMSR reads 0 after the fixup: staging goes on at physical address 0.
    if (p.mailboxPa !== 0)
      return v(`package ${p.pkg}: MSR 0x7a5 faulted but staging used address ${p.mailboxPa}`);
  }
  if (msrFaulted.length > 0 && !lines.some((l) => exp.faultLine!.test(l))) {
    return v('an MSR 0x7a5 fault without the unchecked MSR access warning');
  }

  const passes = st.packages;
  for (const [i, pass] of passes.entries()) {
    const last = i === passes.length - 1;
    if (pass.errno !== 0 && !last) return v(`package ${pass.pkg} failed (${pass.errno}) but staging went on`);
    const txs = passTransactions(hw, pass);
    // A scripted answer may be one the host goes on from: it fails nothing by itself.
    const fired = txs.filter(
      (t) => t.fault !== undefined && t.fault !== 'ignore-abort' && t.fault !== 'respond',
    );
    // At address 0 the host talks to low memory, not to the device.
    if (pass.msrFault && txs.length > 0) {
      return v(`package ${pass.pkg} staged at address 0, yet its mailbox saw ${txs.length} GOs`);
    }
    if (pass.errno === 0) {
      if (fired.length > 0) {
        return v(
          `fault ${fired[0]!.fault} fired at transaction ${fired[0]!.index} of package ${pass.pkg}, yet its staging succeeded`,
        );
      }
      continue;
    }
    const expected = expectedPassErrno(rec, hw, pass, txs, len);
    if (typeof expected === 'string') return v(expected);
    if (pass.errno !== expected.errno) {
      return v(
        `package ${pass.pkg}: staging failed with ${pass.errno}, ${expected.why} gives ${expected.errno}`,
      );
    }
    const line = `microcode: Error: staging failed (${pass.errno}) for CPU${pass.cpu} at package ${pass.pkg}.`;
    const at = lines.indexOf(line);
    if (at < 0) return v(`missing log line '${line}'`);
    if (failLines.length !== 1) return v(`${failLines.length} 'staging failed' lines for one failure`);
    if (expected.line && !expected.line.test(lines[at - 1] ?? '')) {
      return v(`'${line}' is not preceded by the line ${expected.line} (got '${lines[at - 1] ?? ''}')`);
    }
    if (st.errno !== pass.errno || st.failedPackage !== pass.pkg || st.failedCpu !== pass.cpu) {
      return v(
        `the staging summary (${st.errno}, package ${st.failedPackage}, CPU ${st.failedCpu}) disagrees with the failed pass`,
      );
    }
  }
  const succeeded = `microcode: Staging of patch revision 0x${hw.imageRevision.toString(16)} succeeded.`;
  if (st.ok !== lines.includes(succeeded))
    return v(`staging ok=${st.ok} but the success line is ${st.ok ? 'missing' : 'printed'}`);
  if (st.ok && failLines.length > 0) return v(`staging succeeded but the log says '${failLines[0]}'`);
  return undefined;
}

function passTransactions(hw: HardwareState, pass: PackageStaging): readonly MailboxTransaction[] {
  return transactionsOfPass(hw.transactions[pass.pkg], pass);
}

/**
 * What staging at physical address 0 gives: the campaign's machines leave low
 * memory zero, so STATUS reads 0 and the host polls out (-ETIMEDOUT).
 */
function lowMemoryErrno(): number {
  return -110;
}

/** The errno a failed pass must have, from the fault that fired or what the device answered. */
function expectedPassErrno(
  rec: RunRecord,
  hw: HardwareState,
  pass: PackageStaging,
  txs: readonly MailboxTransaction[],
  len: number,
): { errno: number; why: string; line?: RegExp } | string {
  const run = rec.run;
  const exp = run.expectation;
  if (pass.msrFault) {
    return {
      errno: lowMemoryErrno(),
      why: 'staging at physical address 0 after the MSR 0x7a5 #GP (low memory reads 0)',
    };
  }
  if (hw.transactions[pass.pkg] === undefined) {
    // No device answers at the mailbox address: only an injected mailbox-absent explains it.
    if (run.fault?.kind !== 'mailbox-absent' || !exp.faultPackages.includes(pass.pkg)) {
      return `package ${pass.pkg} has no mailbox device, but none was removed`;
    }
    // Nothing decodes the address: STATUS reads all ones, READY and ERROR together.
    return { errno: FAULT_ERRNO['mailbox-absent'], why: 'fault mailbox-absent (STATUS reads all ones)' };
  }
  const lastTx = txs[txs.length - 1];
  if (lastTx?.fault === 'respond' && lastTx.misuse === undefined) {
    if (run.fault?.kind !== 'respond' || !exp.faultPackages.includes(pass.pkg)) {
      return `a scripted answer on package ${pass.pkg}, but the run injected ${run.fault?.kind ?? 'none'}`;
    }
    const a = answerErrno(lastTx, len, pass.endNs);
    if (a.errno !== 0) {
      const out: { errno: number; why: string; line?: RegExp } = {
        errno: a.errno,
        why: `the scripted answer at transaction ${lastTx.index}`,
      };
      if (a.line) out.line = a.line;
      return out;
    }
    return {
      errno: -90,
      why: `the re-send budget after the scripted answer (${pass.bytesSent} bytes sent for ${len})`,
    };
  }
  const fired = txs.filter(
    (t) => t.fault !== undefined && t.fault !== 'ignore-abort' && t.fault !== 'respond',
  );
  if (fired.length > 0) {
    const f = fired[fired.length - 1]!;
    const kind = f.fault!;
    if (run.fault?.kind !== kind || !exp.faultPackages.includes(pass.pkg)) {
      return `fault ${kind} fired on package ${pass.pkg}, but the run injected ${run.fault?.kind ?? 'none'} on ${exp.faultPackages.join(',') || 'no package'}`;
    }
    if (IMMEDIATE.has(kind) && f !== lastTx) {
      return `fault ${kind} fired at transaction ${f.index} of package ${pass.pkg} but the host sent ${txs.length - 1 - txs.indexOf(f)} more`;
    }
    // The errno drawRun expected for the injected kind (FAULT_ERRNO: the kernel's fault matrix).
    const errno = exp.faultErrno ?? FAULT_ERRNO[kind as keyof typeof FAULT_ERRNO];
    const out: { errno: number; why: string; line?: RegExp } = { errno, why: `fault ${kind}` };
    if (kind === 'bad-header' || kind === 'offset-past-end') out.line = exp.faultLine!;
    return out;
  }
  const staleAfterIgnoredAbort = (hw.transactions[pass.pkg] ?? []).some(
    (t) => t.fault === 'ignore-abort' && t.goNs < pass.startNs,
  );
  if (lastTx?.misuse !== undefined) {
    if (!staleAfterIgnoredAbort)
      return `package ${pass.pkg}: the device refused transaction ${lastTx.index} (${lastTx.misuse})`;
    return { errno: -5, why: `misuse ${lastTx.misuse} after an ignored ABORT` };
  }
  if (lastTx === undefined) {
    if (staleAfterIgnoredAbort) return { errno: -5, why: 'stale device state after an ignored ABORT' };
    return `package ${pass.pkg} failed (${pass.errno}) without a single transaction`;
  }
  // A slow device, not a fault: still busy when the host stopped polling (staging-limits checks the count).
  if (lastTx.readyNs > pass.endNs) {
    return {
      errno: -110,
      why: `a device still busy at the host's last STATUS poll (transaction ${lastTx.index} ready at ${lastTx.readyNs} ns, the host gave up at ${pass.endNs} ns)`,
    };
  }
  if ((lastTx.statusBits & STATUS_ERROR) !== 0)
    return { errno: -5, why: `STATUS ERROR at transaction ${lastTx.index}` };
  if ((lastTx.respStatus & RESP_ERROR) !== 0) {
    // A device taken off its script ends the transfer with an error (docs/mailbox-device.md).
    const offScript = txs.some((t) => t.fault === 'respond');
    if (!staleAfterIgnoredAbort && !offScript)
      return `package ${pass.pkg}: the device answered error at transaction ${lastTx.index} without a fault`;
    return {
      errno: -71,
      why: offScript
        ? 'the device giving up off its script'
        : 'a checksum failure from stale state after an ignored ABORT',
    };
  }
  if (lastTx.nextOffset !== END_OFFSET && lastTx.nextOffset >= 0 && lastTx.nextOffset <= len) {
    return { errno: -90, why: `the re-send budget (${pass.bytesSent} bytes sent for ${len})` };
  }
  return `package ${pass.pkg} failed (${pass.errno}) after transaction ${lastTx.index}, which explains no failure`;
}

// ---- the policy was obeyed ----

const BEFORE_STAGING = new Set(['busy', 'not-found', 'bad-firmware']);

function policyObeyed(rec: RunRecord): Violation | undefined {
  const v = (m: string) => violation('policy-obeyed', m);
  const r = rec.result;
  if (!r) return undefined;
  const policy = rec.run.policy;
  if (r.policy.staging !== policy) return v(`ran with staging=${r.policy.staging}, drawn ${policy}`);
  const st = r.staging;
  const lines = r.log.map((l) => l.text);
  if (policy === 'off') {
    if (st.attempted || st.packages.length > 0) return v('staging=off but staging was attempted');
    for (const d of r.devices) {
      if (d.transactions || d.aborts || d.misuse.length) {
        return v(
          `staging=off but package ${d.package}'s mailbox saw ${d.aborts} ABORTs and ${d.transactions} GOs`,
        );
      }
    }
    if (lines.includes('microcode: Enabled staging feature.'))
      return v('staging=off but the driver enabled staging');
    if (r.applies.some((a) => a.staged)) return v('staging=off but an apply used a staged copy');
    return undefined;
  }
  if (BEFORE_STAGING.has(r.outcome)) return undefined;
  const capable = rec.run.expectation.stagingCapable;
  // The writing task never left do_stage(): no policy decision after staging was reached.
  if (r.outcome === 'kernel-does-not-terminate') {
    return st.attempted ? undefined : v("outcome 'kernel-does-not-terminate' without staging");
  }
  if (capable !== st.attempted)
    return v(
      `staging ${st.attempted ? 'attempted' : 'not attempted'} on a machine that ${capable ? 'can' : 'cannot'} stage`,
    );
  if (policy === 'require') {
    if (st.ok) {
      if (r.outcome === 'aborted') return v('staging=require aborted although staging succeeded');
      return undefined;
    }
    if (r.outcome !== 'aborted')
      return v(
        `staging=require fell back: staging failed (${st.errno || 'not available'}) and the outcome is '${r.outcome}'`,
      );
    const errno = st.errno || -95;
    if (r.returnCode !== errno)
      return v(`staging=require aborted with ${r.returnCode}, staging failed with ${errno}`);
    if (r.stopWindow !== null || r.applies.length > 0)
      return v('staging=require aborted but CPUs were stopped or updated');
    return undefined;
  }
  // auto: a staging failure never stops the load.
  if (st.attempted && !st.ok) {
    if (r.outcome === 'aborted')
      return v(`staging=auto aborted the load after a staging failure (${st.errno})`);
    // It went on to stop_machine: CPUs were stopped, or stop_machine never completed (a 'hang': on
    // a machine whose only CPU never reaches stop_machine, none was ever stopped).
    if (r.outcome !== 'hang' && !r.cpus.some((c) => Number.isFinite(c.stoppedNs))) {
      return v(`staging=auto did not fall back to the unstaged load after staging failed (${st.errno})`);
    }
  }
  return undefined;
}

// ---- the host speaks the protocol ----

function mailboxProtocolConformant(rec: RunRecord): Violation | undefined {
  const hw = rec.hardware;
  const r = rec.result;
  if (!hw || !r) return undefined;
  for (let p = 0; p < hw.misuse.length; p++) {
    const misuse = hw.misuse[p] ?? [];
    if (misuse.length === 0) continue;
    const ignored = (hw.transactions[p] ?? []).find((t) => t.fault === 'ignore-abort');
    const first = misuse[0]!;
    // After an ignored ABORT the device is in a state the host cannot know; misuse is expected then.
    if (ignored && first.timeNs > ignored.goNs) continue;
    return violation(
      'mailbox-protocol-conformant',
      `the host misused the mailbox: ${first.kind}: ${first.detail}`,
    );
  }
  for (const pass of r.staging.packages) {
    const txs = hw.transactions[pass.pkg];
    // After an MSR 0x7a5 #GP the host staged at address 0: its GOs went to low memory.
    if (!txs || pass.msrFault) continue;
    const n = passTransactions(hw, pass).length;
    if (n !== pass.chunks) {
      return violation(
        'mailbox-protocol-conformant',
        `package ${pass.pkg}: the host counts ${pass.chunks} chunks, the device ${n} GOs`,
      );
    }
  }
  return undefined;
}

// ---- same seed, same result ----

function deterministic(rec: RunRecord): Violation | undefined {
  if (rec.replayJson === undefined || !rec.result) return undefined;
  const json = rec.json ?? resultJson(rec.result);
  if (json === rec.replayJson) return undefined;
  let i = 0;
  while (i < json.length && json[i] === rec.replayJson[i]) i++;
  const around = (s: string) => s.slice(Math.max(0, i - 40), i + 40);
  return violation(
    'deterministic',
    `a second run of seed ${rec.run.seed} differs at character ${i}: '${around(json)}' vs '${around(rec.replayJson)}'`,
  );
}

export const INVARIANTS: readonly Invariant[] = [
  {
    name: 'terminates',
    description: 'every run ends: no throw, bounded virtual time, bounded chunks and polls',
    check: terminates,
  },
  {
    name: 'staged-copy-identical',
    description: 'every staged copy is byte-identical to the image; a successful staging leaves one',
    check: stagedCopyIdentical,
  },
  {
    name: 'staged-copy-ready-before-use',
    description:
      'an apply uses a staged copy only if the device had completed it when the apply began (a host timeout does not complete it)',
    check: stagedCopyReadyBeforeUse,
  },
  {
    name: 'revisions-consistent',
    description:
      'every core ends at the new or the old revision; a mix is reported as partial with the failed CPUs',
    check: revisionsConsistent,
  },
  {
    name: 'rendezvous-timing',
    description:
      'the rendezvous waits to the 1 us step: 0.5 s for offline siblings, 1 s for the others, 1 s for a primary, then panic',
    check: rendezvousTiming,
  },
  {
    name: 'staging-errno-matches-fault',
    description:
      "a staging failure's errno and log lines are the ones the injected fault (or budget) implies",
    check: stagingErrnoMatchesFault,
  },
  {
    name: 'staging-limits',
    description:
      'each request is min(4 KB, len - offset); -EMSGSIZE exactly when the next one would pass 2x; a timeout after exactly 10,000 polls',
    check: stagingLimits,
  },
  {
    name: 'policy-obeyed',
    description:
      'require never falls back; auto always falls back after a staging failure; off never touches a mailbox',
    check: policyObeyed,
  },
  {
    name: 'mailbox-protocol-conformant',
    description: 'the host never misuses the mailbox (unless an injected ignore-abort left stale state)',
    check: mailboxProtocolConformant,
  },
  { name: 'deterministic', description: 'the same seed gives a byte-identical result', check: deterministic },
];

export function checkRun(rec: RunRecord, invariants: readonly Invariant[] = INVARIANTS): Violation[] {
  const out: Violation[] = [];
  for (const inv of invariants) {
    let found: Violation | undefined;
    try {
      found = inv.check(rec);
    } catch (err) {
      found = violation(
        inv.name,
        `the check itself threw: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (found) out.push(found);
  }
  return out;
}

function hex(n: number | null | undefined): string {
  return n === null || n === undefined ? String(n) : `0x${(n >>> 0).toString(16)}`;
}
