import { EMSGSIZE, ETIMEDOUT } from '../kernel/errno.js';
import type { CpuRecord } from '../sim/result-types.js';
import type { RunRecord, Violation } from './invariants.js';
import {
  answerErrno,
  chunkSize,
  KERNEL_FACTS,
  MAILBOX,
  minPollIntervalNs,
  passTransactions,
  pollLimit,
  stepsToSee,
  US,
} from './kernel-facts.js';
import type { DrawnRun } from './space.js';

// The kernel's bounds, checked to the step on every run against the campaign's
// own copy of them (kernel-facts.ts): the rendezvous waits in 1 us steps, and the
// staging loop's polls, chunks and budget.

const RENDEZVOUS_NS = KERNEL_FACTS.rendezvousWaitUs * US;
const KICK_NS = KERNEL_FACTS.offlineKickUs * US;
const SIBLING_NS = KERNEL_FACTS.siblingWaitUs * US;
const PANIC_PREFIX = 'Kernel panic - not syncing: Microcode load: Primary CPU ';

/** How long a CPU is held before it reaches the NMI handler, as the campaign injected it. */
function injectedStallNs(run: DrawnRun, cpu: number): number {
  const f = run.cpuFault;
  if (!f || f.cpu !== cpu) return 0;
  if (f.kind === 'never-arrives') return Number.POSITIVE_INFINITY;
  if (f.kind === 'late-arrival') return f.delayNs ?? 0;
  return 0;
}

const finite = (n: number): boolean => Number.isFinite(n);

/**
 * The rendezvous's three waits, each in 1 us steps, against the oracle:
 * kick_offline_cpus() gives up 0.5 s after CPU 0 starts waiting, and only if
 * an offline sibling has not checked in by then; wait_for_cpus() releases every
 * CPU at the first step after the last arrival, or times each out exactly 1 s
 * after it arrived when the last arrival is 1 s or more after the first;
 * wait_for_ctrl() lets a sibling go at the first step after its primary is
 * done, or panics exactly 1 s after it began waiting.
 */
export function rendezvousTiming(rec: RunRecord): Violation | undefined {
  const v = (message: string): Violation => ({ invariant: 'rendezvous-timing', message });
  const r = rec.result;
  if (!r) return undefined;
  const cpus = r.cpus;
  const c0 = cpus[0];
  const online = cpus.filter((c) => c.online);
  if (!c0 || !online.some((c) => finite(c.arrivedNs))) return undefined;

  // ---- kick_offline_cpus(): CPU 0 waits for the soft-offlined siblings ----
  const offline = cpus.filter((c) => !c.online);
  let c0GaveUp = false;
  if (offline.length > 0 && finite(c0.arrivedNs)) {
    const nmi = r.costModel.nmiSelfIpiNs;
    // A sibling checks in after CPU 0's NMI reaches it and it gets to the handler.
    const answers = offline.map((c) => ({ cpu: c.cpu, afterNs: nmi + injectedStallNs(rec.run, c.cpu) }));
    const slowest = answers.reduce((a, b) => (b.afterNs > a.afterNs ? b : a));
    const expectProceed = finite(slowest.afterNs) && stepsToSee(slowest.afterNs) < KERNEL_FACTS.offlineKickUs;
    c0GaveUp = !finite(c0.releasedNs);
    if (expectProceed && c0GaveUp) {
      return v(
        `CPU 0 gave up on the offline siblings, which all checked in within ${stepsToSee(slowest.afterNs)} us; kick_offline_cpus() waits ${KERNEL_FACTS.offlineKickUs} us`,
      );
    }
    if (!expectProceed && !c0GaveUp) {
      return v(
        `CPU 0 went on although offline CPU ${slowest.cpu} checked in ${finite(slowest.afterNs) ? `only after ${stepsToSee(slowest.afterNs)} us` : 'never'}; kick_offline_cpus() gives up after ${KERNEL_FACTS.offlineKickUs} us`,
      );
    }
    if (c0GaveUp && c0.doneNs - c0.arrivedNs !== KICK_NS) {
      return v(
        `CPU 0 gave up on the offline siblings ${c0.doneNs - c0.arrivedNs} ns after it began waiting, not ${KICK_NS} ns (${KERNEL_FACTS.offlineKickUs} steps of 1 us)`,
      );
    }
    if (!c0GaveUp) {
      const last = Math.max(...offline.map((c) => c.arrivedNs));
      if (!(c0.arrivedNs >= last && c0.arrivedNs - last < US)) {
        return v(
          `CPU 0 went on at ${c0.arrivedNs} ns, not at the first 1 us step after the last offline sibling checked in (${last} ns)`,
        );
      }
    }
  }

  // ---- wait_for_cpus(): every counted CPU waits for the last arrival ----
  // A CPU 0 that gave up on its siblings skips the load and never joins the count.
  const counted = c0GaveUp ? online.filter((c) => c.cpu !== 0) : online;
  const arrived = counted.filter((c) => finite(c.arrivedNs));
  if (arrived.length === 0) return undefined;
  const everyone = !c0GaveUp && arrived.length === counted.length;
  const first = Math.min(...arrived.map((c) => c.arrivedNs));
  const last = everyone ? Math.max(...arrived.map((c) => c.arrivedNs)) : Number.POSITIVE_INFINITY;
  const spreadSteps = stepsToSee(last - first);
  const expectTimeout = !(spreadSteps < KERNEL_FACTS.rendezvousWaitUs);
  const timedOut = arrived.filter((c) => c.result === 'timeout');
  const spread = everyone ? `${spreadSteps} us after the first` : 'never';
  if (expectTimeout && timedOut.length === 0) {
    return v(
      `the last CPU reached the rendezvous ${spread}, yet no CPU timed out; wait_for_cpus() gives up after ${KERNEL_FACTS.rendezvousWaitUs} us`,
    );
  }
  if (!expectTimeout && timedOut.length > 0) {
    return v(
      `CPU ${timedOut[0]!.cpu} timed out in the rendezvous although the last CPU arrived ${spread}; wait_for_cpus() waits ${KERNEL_FACTS.rendezvousWaitUs} us`,
    );
  }
  for (const c of arrived) {
    const waited = c.releasedNs - c.arrivedNs;
    if (expectTimeout) {
      if (c.result !== 'timeout' || waited !== RENDEZVOUS_NS) {
        return v(
          `CPU ${c.cpu} left the timed-out rendezvous ${waited} ns after it arrived (result '${c.result}'), not exactly ${RENDEZVOUS_NS} ns (${KERNEL_FACTS.rendezvousWaitUs} steps of 1 us)`,
        );
      }
    } else if (waited !== stepsToSee(last - c.arrivedNs) * US) {
      return v(
        `CPU ${c.cpu} was released ${waited} ns after it arrived, not at the first 1 us step after the last arrival (${stepsToSee(last - c.arrivedNs) * US} ns)`,
      );
    }
  }
  if (expectTimeout) return undefined;

  // ---- wait_for_ctrl(): each sibling waits for its primary ----
  const waits = arrived
    .filter((c) => c.ctrlCpu !== c.cpu)
    .map((c) => {
      const primary: CpuRecord | undefined = cpus[c.ctrlCpu];
      return { c, primary: c.ctrlCpu, steps: stepsToSee((primary?.doneNs ?? Number.NaN) - c.releasedNs) };
    });
  const givingUp = waits.filter((w) => !(w.steps < KERNEL_FACTS.siblingWaitUs));
  const panicAt = givingUp.length ? Math.min(...givingUp.map((w) => w.c.releasedNs + SIBLING_NS)) : undefined;
  const panicLine = r.log.find((l) => l.text.startsWith(PANIC_PREFIX));
  if (panicAt !== undefined) {
    const w = givingUp.find((g) => g.c.releasedNs + SIBLING_NS === panicAt)!;
    if (r.outcome !== 'panic' || !panicLine) {
      return v(
        `CPU ${w.c.cpu}'s primary CPU ${w.primary} was done ${finite(w.steps) ? `${w.steps} us` : 'never'} after it began waiting; wait_for_ctrl() gives up after ${KERNEL_FACTS.siblingWaitUs} us and panics, yet the outcome is '${r.outcome}'`,
      );
    }
    if (panicLine.timeNs !== panicAt) {
      return v(
        `the panic came ${panicLine.timeNs - w.c.releasedNs} ns after CPU ${w.c.cpu} began waiting for its primary, not exactly ${SIBLING_NS} ns (${KERNEL_FACTS.siblingWaitUs} steps of 1 us)`,
      );
    }
    const named = Number(panicLine.text.slice(PANIC_PREFIX.length).split(' ')[0]);
    if (!givingUp.some((g) => g.primary === named && g.c.releasedNs + SIBLING_NS === panicAt)) {
      return v(
        `the panic names primary CPU ${named}; the first sibling to give up waited for CPU ${w.primary}`,
      );
    }
  } else if (r.outcome === 'panic') {
    const longest = Math.max(0, ...waits.map((w) => w.steps));
    return v(
      `outcome 'panic' although every sibling's primary was done within ${longest} us; wait_for_ctrl() waits ${KERNEL_FACTS.siblingWaitUs} us`,
    );
  }
  for (const w of waits) {
    if (!(w.steps < KERNEL_FACTS.siblingWaitUs)) continue;
    const start = w.c.releasedNs + w.steps * US;
    // After panic() nothing starts: a sibling still waiting then never goes on.
    if (panicAt !== undefined && start >= panicAt) {
      if (finite(w.c.applyStartNs))
        return v(`CPU ${w.c.cpu} went on at ${w.c.applyStartNs} ns, after the panic at ${panicAt} ns`);
      continue;
    }
    if (w.c.applyStartNs !== start) {
      return v(
        `CPU ${w.c.cpu} went on ${w.c.applyStartNs - w.c.releasedNs} ns after it began waiting, not at the first 1 us step after its primary was done (${w.steps * US} ns)`,
      );
    }
  }
  return undefined;
}

/**
 * The staging loop's bounds, replayed from what each mailbox was sent: every
 * request carries min(4 KB, len - offset); no request goes out once the bytes
 * sent would pass 2x the image (per-chunk: once a chunk was sent retries + 1
 * times), and a good answer that does not end the transfer ends it with
 * -EMSGSIZE exactly then; a transaction the host gives up on got exactly
 * 10,000 STATUS polls (the fine-poll policy: its own count).
 */
export function stagingLimits(rec: RunRecord): Violation | undefined {
  const v = (message: string): Violation => ({ invariant: 'staging-limits', message });
  const r = rec.result;
  const hw = rec.hardware;
  if (!r || !hw) return undefined;
  const len = rec.run.imageBytes;
  const limit = pollLimit(r.policy);
  const minWaitNs = minPollIntervalNs(r.policy);
  const budget = KERNEL_FACTS.stagingBudgetFactor * len;
  const twoX = r.policy.budget === '2x';
  const CHUNK = KERNEL_FACTS.stagingChunkBytes;
  const passes = r.staging.packages;
  for (const [i, pass] of passes.entries()) {
    const p = `package ${pass.pkg}`;
    const device = hw.transactions[pass.pkg];
    if (pass.msrFault || device === undefined) {
      // Nothing decodes what the host talks to: one request, then STATUS reads
      // READY at once (all ones: one poll) or never (zero: the whole timeout).
      const polls = pass.errno === -ETIMEDOUT ? limit : 1;
      if (pass.chunks !== 1 || pass.polls !== polls || pass.bytesSent !== chunkSize(len, 0)) {
        return v(
          `${p} (no mailbox answering) sent ${pass.chunks} requests (${pass.bytesSent} bytes) and polled ${pass.polls} times for ${pass.errno}; the kernel sends one ${chunkSize(len, 0)}-byte request and polls ${polls} times`,
        );
      }
      continue;
    }
    const txs = passTransactions(device, pass);
    let offset = 0;
    let sent = 0;
    const sends = new Map<number, number>();
    for (const [k, tx] of txs.entries()) {
      const chunk = chunkSize(len, offset);
      const index = Math.floor(offset / CHUNK);
      if (twoX && sent + chunk > budget) {
        return v(
          `${p}: transaction ${tx.index} was sent with ${sent} bytes already sent: ${sent} + ${chunk} passes the ${budget}-byte budget (${KERNEL_FACTS.stagingBudgetFactor} x ${len}), where the kernel stops with -EMSGSIZE`,
        );
      }
      if (!twoX && (sends.get(index) ?? 0) > r.policy.chunkRetries) {
        return v(
          `${p}: transaction ${tx.index} sent chunk ${index} a ${(sends.get(index) ?? 0) + 1}th time; the per-chunk budget allows ${r.policy.chunkRetries + 1}`,
        );
      }
      if (tx.misuse === undefined && tx.bytes !== chunk - (chunk % 4)) {
        return v(
          `${p}: transaction ${tx.index} carried ${tx.bytes} bytes at offset ${offset}; the kernel sends min(${CHUNK}, ${len} - ${offset}) = ${chunk}`,
        );
      }
      sent += chunk;
      sends.set(index, (sends.get(index) ?? 0) + 1);
      if (k < txs.length - 1) offset = tx.nextOffset;
    }
    if (pass.bytesSent !== sent) {
      return v(`${p}: the host counts ${pass.bytesSent} bytes sent, its requests carried ${sent}`);
    }
    const lastTx = txs[txs.length - 1];
    // The last pass of a run whose do_stage() never ends stopped at the model's bound, not the kernel's.
    const endless = r.outcome === 'kernel-does-not-terminate' && i === passes.length - 1;
    if (lastTx && !endless) {
      const goodAnswer =
        lastTx.misuse === undefined &&
        lastTx.nextOffset !== MAILBOX.endOffset &&
        answerErrno(lastTx, len, pass.endNs).errno === 0;
      if (goodAnswer) {
        // The device asked for more and nothing was wrong: only the budget ends the loop here.
        const next = chunkSize(len, lastTx.nextOffset);
        const over = twoX
          ? sent + next > budget
          : (sends.get(Math.floor(lastTx.nextOffset / CHUNK)) ?? 0) > r.policy.chunkRetries;
        if (pass.errno !== -EMSGSIZE || !over) {
          const rule = twoX
            ? `${sent} + ${next} bytes ${over ? 'pass' : 'do not pass'} the ${budget}-byte budget`
            : `chunk ${Math.floor(lastTx.nextOffset / CHUNK)} was sent ${sends.get(Math.floor(lastTx.nextOffset / CHUNK)) ?? 0} times`;
          return v(
            `${p}: after transaction ${lastTx.index} asked for offset ${lastTx.nextOffset} the host stopped with ${pass.errno}; ${rule}`,
          );
        }
      } else if (pass.errno === -EMSGSIZE) {
        return v(
          `${p}: -EMSGSIZE after transaction ${lastTx.index}, whose answer ends the transfer by itself`,
        );
      }
    } else if (!lastTx && pass.errno === -EMSGSIZE) {
      return v(`${p}: -EMSGSIZE before any request was sent`);
    }
    // Polls: every transaction is read at least once; one the host gave up on exactly `limit` times.
    if (pass.polls < txs.length) return v(`${p}: ${pass.polls} STATUS polls for ${txs.length} transactions`);
    if (pass.errno === -ETIMEDOUT && lastTx) {
      const earlier = txs.length - 1;
      // A transaction READY before the host's first read took exactly one poll.
      const exact = txs.slice(0, -1).every((t) => t.readyNs - t.goNs <= minWaitNs);
      if (exact && pass.polls - earlier !== limit) {
        return v(
          `${p}: the host gave up on transaction ${lastTx.index} after ${pass.polls - earlier} STATUS polls (${pass.polls} in the pass, one for each of the ${earlier} before it); the kernel polls exactly ${limit} times before -ETIMEDOUT`,
        );
      }
      if (!exact && (pass.polls - limit < earlier || pass.polls - limit > earlier * limit)) {
        return v(
          `${p}: ${pass.polls} STATUS polls in a pass that timed out at transaction ${lastTx.index}: not ${limit} for it plus 1 to ${limit} for each of the ${earlier} before it`,
        );
      }
    }
  }
  return undefined;
}
