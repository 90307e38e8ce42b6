import { MODEL_LIMITS } from '../kernel/limits.js';
import type { PolicyInput } from '../kernel/policy.js';
import type { DeviceFault } from '../platform/mailbox/config.js';
import type { SimulationResult } from '../sim/result-types.js';
import { formatFault } from '../sim/run-args.js';
import { type Finding, finding } from './finding.js';
import { code, grouped, millis, seconds, table } from './format.js';
import { HZS, type Hz, STAGING_PRESETS } from './machines.js';
import { lockHeldNs, type Measured, type Runner } from './runner.js';

interface Answer {
  what: string;
  fault: DeviceFault;
  /** A smaller image where the run would take long to simulate and the count is exact arithmetic. */
  imageBytes?: number;
}

const FOR_EVER_LEN: DeviceFault = { kind: 'respond', atTransaction: 3, offset: 'len', sticky: true };
/** The unaligned case runs on a 16 KiB image: 2 x len transactions of one byte. */
const SMALL_IMAGE = 16 * 1024;

const ANSWERS: readonly Answer[] = [
  { what: 'the image length, for ever', fault: FOR_EVER_LEN },
  {
    what: 'one byte before the end, for ever (16 KiB image)',
    fault: { kind: 'respond', atTransaction: 3, offset: 'len-1', sticky: true },
    imageBytes: SMALL_IMAGE,
  },
  {
    what: 'the same chunk again, for ever',
    fault: { kind: 'respond', atTransaction: 3, offset: 'chunk', sticky: true },
  },
  {
    what: 'back to offset 0, for ever',
    fault: { kind: 'respond', atTransaction: 3, offset: 0, sticky: true },
  },
  { what: 'the end marker after 4 chunks', fault: { kind: 'respond', atTransaction: 3, offset: 4294967295 } },
  {
    what: 'a status without the success bit, always',
    fault: { kind: 'respond', atTransaction: 0, status: 0, sticky: true },
  },
  { what: 'past the end (len + 4)', fault: { kind: 'respond', atTransaction: 3, offset: 'len+4' } },
  { what: 'ready after 25 s, once', fault: { kind: 'respond', atTransaction: 3, readyNs: 25e9 } },
];

const STRICT: PolicyInput = { offsetCheck: 'strict' };
const LIMIT: PolicyInput = { transactionLimit: '2x' };
/** Runs that would loop for ever stop at the model's bound; slow ones need more than the default hour. */
const TIME_LIMIT_NS = 100_000e9;

function verdict(r: SimulationResult): string {
  if (r.outcome === 'kernel-does-not-terminate') return 'never returns';
  const st = r.staging;
  if (!st.ok) return `falls back (${st.errnoName})`;
  const unstaged = r.applies.filter((a) => a.outcome === 'updated' && !a.staged).length;
  return unstaged > 0 ? `"succeeded", ${unstaged} of ${r.applies.length} applies unstaged` : 'succeeds';
}

function transactions(r: SimulationResult): number {
  return r.staging.packages.reduce((n, p) => n + p.chunks, 0);
}

function held(m: Measured): string {
  const ns = lockHeldNs(m.r);
  return Number.isFinite(ns) ? seconds(ns) : 'for ever';
}

/** Finding 5: device answers the protocol allows and 6.19 does not bound. */
export function unboundedFinding(runner: Runner): Finding {
  const at = (a: Answer, hz: Hz, policy?: PolicyInput, machine = 'gnr-2s'): Measured =>
    runner.run({
      machine,
      cost: { hz },
      faults: [{ value: a.fault }],
      timeLimitNs: TIME_LIMIT_NS,
      ...(a.imageBytes === undefined ? {} : { syntheticImageBytes: a.imageBytes }),
      ...(policy ? { policy } : {}),
    });
  const answerRows = ANSWERS.map((a) => {
    const k = at(a, 1000);
    const s = at(a, 1000, STRICT);
    const l = at(a, 1000, LIMIT);
    return [
      a.what,
      code(formatFault(a.fault)),
      verdict(k.r),
      grouped(transactions(k.r)),
      held(at(a, 250)),
      held(k),
      `${verdict(s.r)}, ${held(s)}`,
      `${verdict(l.r)}, ${held(l)}`,
    ];
  });
  const len = ANSWERS[0]!;
  const presetRows = STAGING_PRESETS.map((machine) => [
    machine,
    ...HZS.map((hz) => held(at(len, hz, undefined, machine))),
    ...HZS.map((hz) => held(at(len, hz, STRICT, machine))),
    ...HZS.map((hz) => held(at(len, hz, LIMIT, machine))),
  ]);

  const never = at(len, 1000);
  const stuck = never.r.stuck!;
  const small = at(ANSWERS[1]!, 1000);
  const small250 = at(ANSWERS[1]!, 250);
  const perTx = (m: Measured) => {
    const p = m.r.staging.packages[0]!;
    return (p.endNs - p.startNs) / p.chunks;
  };
  const full = never.r.image!.totalSize;
  // 4 whole chunks (the 4th answered len - 1), then one byte a request until bytes_sent would pass 2 x len.
  const fullTx = 4 + (2 * full - 4 * 4096);
  const smallTx = small.r.staging.packages[0]!.chunks;
  const strict = at(len, 1000, STRICT);
  const limited = at(len, 1000, LIMIT);
  const endEarly = at(ANSWERS[4]!, 1000);
  const slow = ANSWERS[7]!;

  return finding({
    n: 5,
    title: 'Answers the protocol allows but 6.19 does not bound',
    headline: `a mailbox that keeps answering "next offset = image length" keeps 6.19 in do_stage() for ever with the CPU hotplug lock held; one byte short of the end (unaligned) keeps it there ${seconds(fullTx * perTx(small250))} at HZ 250 for a 1.6 MB image; fetch_next_offset() checking offset >= len (and alignment) bounds both at the first such answer`,
    code: `${code('do_stage()')} loops ${code('while (!staging_is_complete(&ss, &err))')}: ${code('can_send_next_chunk()')} sets ${code('chunk_size = min(PAGE_SIZE, ucode_len - offset)')} and bounds the loop only by ${code('bytes_sent + chunk_size > 2 * ucode_len')}; ${code('fetch_next_offset()')} refuses an offset only when it is not the end marker and ${code('offset > ucode_len')}. An offset equal to the length passes the check and makes every later chunk 0 bytes, so ${code('bytes_sent')} stops growing and the budget never ends the loop; an unaligned offset just below the end makes every chunk 1 to 3 bytes (a request of no data dword that still adds them to ${code('bytes_sent')}).`,
    reproduce: [never.command, `${strict.command}   # offset >= len and unaligned offsets refused`],
    measured: [
      `Each answer given by the mailbox of package 0 of ${code('gnr-2s')} from its 4th transaction (${code('respond')} faults, docs/mailbox-device.md), at HZ 1000 unless the column says otherwise; the time is the reload write, during which the CPU hotplug lock is held:`,
      '',
      ...table(
        [
          'the device answers',
          'fault',
          '6.19',
          ['transactions', 'right'],
          ['lock held, HZ 250', 'right'],
          ['lock held, HZ 1000', 'right'],
          '`--offset-check strict`',
          '`--transaction-limit 2x`',
        ],
        answerRows,
      ),
      '',
      `- **The image length, for ever:** 6.19 never leaves ${code('do_stage()')}: ${stuck.reason}. The model stops after ${grouped(MODEL_LIMITS.stagingNoProgressIterations)} such transactions in a row (${seconds(never.r.reload.durationNs)} at HZ 1000); the kernel would go on. Meanwhile the writer of the reload file holds the CPU hotplug lock (${code('cpus_read_lock()')} in ${code('reload_store()')}), the mailbox stays mapped, the ${code('echo')} never returns and cannot be killed (${code('msleep()')} sleeps uninterruptibly). Nothing reports it: the task is scheduled at every sleep, so neither the soft-lockup nor the hung-task detector fires. The first CPU hotplug operation after it (a CPU taken offline, suspend) blocks in ${code('cpus_write_lock()')}, and once a writer waits, new ${code('cpus_read_lock()')} callers queue behind it.`,
      `- **One byte before the end, for ever:** bounded, but by bytes: ${grouped(smallTx)} transactions for the 16 KiB image, ${grouped(fullTx)} for ${grouped(full)} bytes (4 whole chunks, then one byte each until ${code('bytes_sent')} would pass ${grouped(2 * full)}). At ${millis(perTx(small))} (HZ 1000) and ${millis(perTx(small250))} (HZ 250) a transaction, that is ${seconds(fullTx * perTx(small))} and ${seconds(fullTx * perTx(small250))} with the lock held. (The full-size run: the command above with ${code("--fault 'respond@3:offset=len-1,sticky' --time-limit 100000")}; it takes a while to simulate.)`,
      `- **The end marker early:** the kernel prints ${code(`Staging of patch revision 0x${endEarly.r.image!.revision.toString(16)} succeeded.`)} although the mailbox holds no complete image: ${code('do_stage()')} takes ${code('0xffffffff')} as success without looking at the status, and the load silently pays the unstaged apply (stop window ${seconds(endEarly.r.stopWindow!.durationNs)}).`,
      `- **Ready after 25 s:** the outcome depends on HZ: at HZ 1000 the 10,000 sleeps are over after 20 s and staging fails (${at(slow, 1000).r.staging.errnoName}); at HZ 250 they last 80 s and staging ${verdict(at(slow, 250).r)}.`,
      '',
      `The image length, for ever, on every preset (the time the CPU hotplug lock is held):`,
      '',
      ...table(
        [
          'preset',
          ['6.19, HZ 250', 'right'],
          ['6.19, HZ 1000', 'right'],
          ['strict, HZ 250', 'right'],
          ['strict, HZ 1000', 'right'],
          ['limit 2x, HZ 250', 'right'],
          ['limit 2x, HZ 1000', 'right'],
        ],
        presetRows,
      ),
    ],
    proposal: [
      `The smallest check that bounds the loop is one character in ${code('fetch_next_offset()')}: refuse ${code('offset >= ss->ucode_len')} (not just ${code('>')}) unless it is the end marker, since no chunk can start at the image end. The unaligned case needs ${code('!IS_ALIGNED(offset, sizeof(u32))')} beside it (the chunk is sent from ${code('ucode_ptr + offset')} as dwords anyway). Both are modelled by ${code('--offset-check strict')}, which prints a line of ours and returns -EINVAL. A bound on the number of transactions (${code('2 * DIV_ROUND_UP(ucode_len, PAGE_SIZE)')}, the budget's own intent: "a 10-chunk image can take up to 20 attempts") catches any answer that keeps ${code('bytes_sent')} from growing a chunk at a time: ${code('--transaction-limit 2x')}.`,
    ],
    withProposal: [
      `In the tables above (last columns): with the strict check every such answer ends staging at the 4th transaction (${seconds(lockHeldNs(strict.r))} for the whole write at HZ 1000) and the load goes on unstaged; with the transaction limit, after ${grouped(transactions(limited.r))} transactions (${seconds(lockHeldNs(limited.r))}). A device that follows the protocol is not affected by either (test/kernel/policies.test.ts).`,
    ],
    evidence: [
      `fetch_next_offset() accepts a next offset equal to the image length. can_send_next_chunk() then computes a chunk size of 0, send_data_chunk() sends a header-only request and bytes_sent stays where it is, so neither the end marker nor the 2 x ucode_len budget ever ends the loop: with a device that keeps answering so, the writer of the reload file stays in do_stage() for ever, holding the CPU hotplug lock, and nothing reports it because the task sleeps between polls. An unaligned offset just below the end is bounded only a byte per transaction: ${grouped(fullTx)} transactions for a ${grouped(full)}-byte image, ${seconds(fullTx * perTx(small))} at HZ=1000 in a model of the loop. Refuse offset >= ucode_len, and unaligned offsets, as invalid.`,
    ],
  });
}
