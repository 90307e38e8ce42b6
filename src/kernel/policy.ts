import { z } from 'zod';

/**
 * Choices beyond the kernel's own behaviour. The defaults are Linux 6.19's,
 * so a run with no policy is the kernel's behaviour.
 */
export const PolicySchema = z
  .object({
    /** auto: stage when the CPU enumerates it, fall back on failure (kernel).
     *  off: never stage. require: a staging failure (or no staging) aborts the load. */
    staging: z.enum(['auto', 'off', 'require']).default('auto'),
    /** '2x': stop when the bytes sent would exceed twice the image (kernel).
     *  'per-chunk': stop when one chunk is asked for more than `chunkRetries` extra times. */
    budget: z.enum(['2x', 'per-chunk']).default('2x'),
    chunkRetries: z.number().int().min(0).max(1000).default(3),
    /** 'previous-package': skip a primary thread only if its package equals the previous one's (kernel).
     *  'distinct': stage each package once, whatever the CPU numbering. */
    dedupe: z.enum(['previous-package', 'distinct']).default('previous-package'),
    /** 'msleep': the kernel's msleep(1) poll, 10,000 iterations.
     *  'fine': sleep `pollUs` microseconds between STATUS reads, same 10 s budget. */
    poll: z.enum(['msleep', 'fine']).default('msleep'),
    pollUs: z.number().int().min(1).max(1_000_000).default(10),
    /** The kernel's force_minrev: skip images that are not safe to late-load. */
    forceMinrev: z.boolean().default(false),
  })
  .strict();

export type Policy = z.output<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

export const KERNEL_POLICY: Readonly<Policy> = Object.freeze(PolicySchema.parse({}));
