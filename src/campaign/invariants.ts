import type { PackageStaging } from '../kernel/intel/staging-report.js';
import type { MailboxTransaction, MisuseRecord } from '../platform/mailbox/device.js';
import type { SimulationResult } from '../sim/result-types.js';
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
  'revisions-consistent',
  'staging-errno-matches-fault',
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

/** msleep(1) polls per transaction before -ETIMEDOUT (MBOX_XACTION_TIMEOUT_MS). */
const POLL_ITERATIONS = 10_000;
const CHUNK = 4096;
const END_OFFSET = 0xffff_ffff;
const RESP_ERROR = 0x4;
const STATUS_ERROR = 0x4;

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
  const len = rec.run.imageBytes;
  const m = r.machine;
  const maxPasses = m.packages * m.coresPerPackage;
  if (r.staging.packages.length > maxPasses) {
    return v(`${r.staging.packages.length} staging passes for ${maxPasses} primary threads`);
  }
  for (const p of r.staging.packages) {
    const bound = chunkBound(r, len);
    if (p.chunks > bound)
      return v(`package ${p.pkg}: ${p.chunks} chunks sent, the budget allows at most ${bound}`);
    const pollBound = (p.chunks || 1) * pollIterations(r);
    if (p.polls > pollBound)
      return v(`package ${p.pkg}: ${p.polls} STATUS polls, at most ${pollBound} possible`);
    if (r.policy.budget === '2x' && p.bytesSent > 2 * len) {
      return v(`package ${p.pkg}: ${p.bytesSent} bytes sent for a ${len}-byte image (2x budget)`);
    }
  }
  return undefined;
}

function pollIterations(r: SimulationResult): number {
  return r.policy.poll === 'fine' ? Math.ceil((POLL_ITERATIONS * 1000) / r.policy.pollUs) : POLL_ITERATIONS;
}

/** Most GOs one pass can issue under the policy's budget. */
function chunkBound(r: SimulationResult, len: number): number {
  const chunks = Math.ceil(len / CHUNK);
  if (r.policy.budget === 'per-chunk') return chunks * (r.policy.chunkRetries + 1);
  const smallest = len % CHUNK || CHUNK;
  return Math.floor((2 * len) / Math.min(CHUNK, smallest)) + 1;
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
    if (pass.errno === 0 && hw.staged[pass.pkg] === undefined) {
      return v(`package ${pass.pkg} staged successfully but its mailbox holds no staged copy`);
    }
  }
  for (const a of r.applies) {
    const pkg = r.cpus[a.cpu]?.package;
    const holds = pkg !== undefined && hw.staged[pkg] !== undefined;
    if (a.staged ? !holds : holds && a.outcome === 'updated') {
      // Rules (a)-(c): only a completed stage of this image makes WRMSR 0x79 activation-only, and then always.
      return v(
        `CPU ${a.cpu} applied ${a.staged ? 'as staged' : 'unstaged'} but package ${pkg} ${holds ? 'holds' : 'holds no'} staged copy`,
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
  if (r.outcome === 'panic' && !r.panicMessage) return v("outcome 'panic' without a panic message");
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

  if (st.reason === 'mailbox-msr-fault') {
    if (rec.run.fault?.kind !== 'mailbox-msr-fault' || !exp.faultPackages.includes(st.failedPackage ?? -1)) {
      return v(`MSR 0x7a5 faulted on package ${st.failedPackage}, where no MSR fault was injected`);
    }
    if (failLines.length > 0) return v(`an MSR 0x7a5 fault printed '${failLines[0]}'; the kernel only warns`);
    if (!lines.some((l) => exp.faultLine!.test(l))) return v('an MSR 0x7a5 fault without its WARNING line');
  }

  const passes = st.packages;
  for (const [i, pass] of passes.entries()) {
    const last = i === passes.length - 1;
    if (pass.errno !== 0 && !last) return v(`package ${pass.pkg} failed (${pass.errno}) but staging went on`);
    const txs = passTransactions(hw, pass);
    const fired = txs.filter((t) => t.fault !== undefined && t.fault !== 'ignore-abort');
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
  const all = hw.transactions[pass.pkg] ?? [];
  return all.filter((t) => t.goNs >= pass.startNs && t.goNs <= pass.endNs);
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
  if (hw.transactions[pass.pkg] === undefined) {
    // No device answers at the mailbox address: only an injected mailbox-absent explains it.
    if (run.fault?.kind !== 'mailbox-absent' || !exp.faultPackages.includes(pass.pkg)) {
      return `package ${pass.pkg} has no mailbox device, but none was removed`;
    }
    return { errno: FAULT_ERRNO['mailbox-absent'], why: 'fault mailbox-absent', line: exp.faultLine! };
  }
  const fired = txs.filter((t) => t.fault !== undefined && t.fault !== 'ignore-abort');
  const lastTx = txs[txs.length - 1];
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
  if ((lastTx.statusBits & STATUS_ERROR) !== 0)
    return { errno: -5, why: `STATUS ERROR at transaction ${lastTx.index}` };
  if ((lastTx.respStatus & RESP_ERROR) !== 0) {
    if (!staleAfterIgnoredAbort)
      return `package ${pass.pkg}: the device answered error at transaction ${lastTx.index} without a fault`;
    return { errno: -71, why: 'a checksum failure from stale state after an ignored ABORT' };
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
    if (!r.cpus.some((c) => Number.isFinite(c.stoppedNs))) {
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
    if (!txs) continue;
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
    name: 'revisions-consistent',
    description:
      'every core ends at the new or the old revision; a mix is reported as partial with the failed CPUs',
    check: revisionsConsistent,
  },
  {
    name: 'staging-errno-matches-fault',
    description:
      "a staging failure's errno and log lines are the ones the injected fault (or budget) implies",
    check: stagingErrnoMatchesFault,
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
