import { wholeNumber, z } from '../zod.js';

/**
 * Choices beyond the kernel's own behaviour. The defaults are Linux 6.19's,
 * so a run with no policy is the kernel's behaviour.
 */
export const PolicySchema = z.strictObject({
  /** auto: stage when the CPU enumerates it, fall back on failure (kernel).
   *  off: never stage. require: a staging failure (or no staging) aborts the load. */
  staging: z._default(z.enum(['auto', 'off', 'require']), 'auto'),
  /** '2x': stop when the bytes sent would exceed twice the image (kernel).
   *  'per-chunk': stop when one chunk is asked for more than `chunkRetries` extra times. */
  budget: z._default(z.enum(['2x', 'per-chunk']), '2x'),
  chunkRetries: z._default(wholeNumber(0, 1000), 3),
  /** 'previous-package': skip a primary thread only if its package equals the previous one's (kernel).
   *  'distinct': stage each package once, whatever the CPU numbering. */
  dedupe: z._default(z.enum(['previous-package', 'distinct']), 'previous-package'),
  /** 'msleep': the kernel's msleep(1) poll, 10,000 iterations.
   *  'fine': wait about `pollUs` microseconds between STATUS reads, in the way `pollWait` says. */
  poll: z._default(z.enum(['msleep', 'fine']), 'msleep'),
  pollUs: z._default(wholeNumber(1, 1_000_000), 10),
  /** How poll=fine waits (ignored with msleep). 'udelay': udelay(pollUs) between reads,
   *  10 s / pollUs iterations. 'usleep-range': usleep_range(pollUs, 2 * pollUs) between
   *  reads, 10 s / pollUs iterations. 'readl-poll-timeout': readl_poll_timeout(STATUS,
   *  READY, pollUs, 10 s): read first, sleep up to pollUs between reads, stop once 10 s
   *  of time have passed. */
  pollWait: z._default(z.enum(['udelay', 'usleep-range', 'readl-poll-timeout']), 'udelay'),
  /** The kernel's force_minrev: skip images that are not safe to late-load. */
  forceMinrev: z._default(z.boolean(), false),
  /** 'serial': one package after the other (kernel). 'parallel': every package at once, one worker each. */
  stageOrder: z._default(z.enum(['serial', 'parallel']), 'serial'),
  /** 'none': only the byte budget bounds a pass (kernel). '2x': also at most twice the
   *  image's chunk count of transactions (-EMSGSIZE), whatever each one carried. */
  transactionLimit: z._default(z.enum(['none', '2x']), 'none'),
  /** 'kernel': refuse a next offset past the image end. 'strict': also the image length
   *  itself and an offset that is not 4-byte aligned (-EINVAL). */
  offsetCheck: z._default(z.enum(['kernel', 'strict']), 'kernel'),
});

export type Policy = z.output<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

export const KERNEL_POLICY: Readonly<Policy> = Object.freeze(PolicySchema.parse({}));

/**
 * The choices of `policy` that change the staging step away from 6.19's, as
 * `flag=value` (the CLI's spelling), in a fixed order; empty for the kernel's.
 */
export function stagingPolicyChanges(policy: Policy): string[] {
  const out: string[] = [];
  if (policy.stageOrder !== KERNEL_POLICY.stageOrder) out.push(`stage-order=${policy.stageOrder}`);
  if (policy.dedupe !== KERNEL_POLICY.dedupe) out.push(`dedupe=${policy.dedupe}`);
  if (policy.budget !== KERNEL_POLICY.budget)
    out.push(`budget=${policy.budget} (chunk-retries=${policy.chunkRetries})`);
  if (policy.poll !== KERNEL_POLICY.poll)
    out.push(`poll=${policy.poll} (poll-wait=${policy.pollWait}, poll-us=${policy.pollUs})`);
  if (policy.transactionLimit !== KERNEL_POLICY.transactionLimit)
    out.push(`transaction-limit=${policy.transactionLimit}`);
  if (policy.offsetCheck !== KERNEL_POLICY.offsetCheck) out.push(`offset-check=${policy.offsetCheck}`);
  return out;
}
