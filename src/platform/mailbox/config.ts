import { numberIn, wholeNumber, z } from '../../zod.js';

/**
 * How a package's staging mailbox behaves. Data, so machine files and CLI
 * options can select it per package.
 */
export const DeviceProfileSchema = z.discriminatedUnion('kind', [
  /** Asks for every chunk once, in order, and holds the whole image. */
  z.strictObject({ kind: z.literal('ideal') }),
  /**
   * Holds `cacheChunks` chunks. After each window it may ask again for a chunk
   * it dropped (`rerequestProbability`, seeded); with `verifyPass` it asks for the
   * whole image a second time; `extraChunks` asks for that many more after that
   * (so verifyPass + extraChunks: 1 crosses the kernel's 2x budget by one chunk).
   */
  z.strictObject({
    kind: z.literal('limited-cache'),
    cacheChunks: z._default(wholeNumber(1, 1_000_000), 64),
    rerequestProbability: z._default(numberIn(0, 1), 0),
    verifyPass: z._default(z.boolean(), false),
    extraChunks: z._default(wholeNumber(0, 1_000_000), 0),
  }),
  /** Like `ideal` but takes `chunkNs` per chunk instead of the cost model's deviceChunkNs. */
  z.strictObject({
    kind: z.literal('slow'),
    chunkNs: z._default(numberIn(0, 3_600_000_000_000), 1_000_000),
  }),
]);
export type DeviceProfile = z.infer<typeof DeviceProfileSchema>;

export const DEVICE_FAULT_KINDS = [
  /** STATUS shows ERROR (with READY): the host fails the transaction with -EIO. */
  'error-status',
  /** STATUS shows ERROR but never READY: the host polls its whole budget, then -EIO. */
  'error-status-not-ready',
  /** STATUS never shows READY: -ETIMEDOUT after 10,000 polls. */
  'never-ready',
  /** The response header is not 0x8086 | 0xb << 16 | 4 << 32: -EBADR. */
  'bad-header',
  /** The next offset is beyond the image and not the end marker: -EINVAL. */
  'offset-past-end',
  /** The response status has its error bit: -EPROTO. */
  'response-error',
  /** The device asks for the same chunk again forever: the 2x budget ends it, -EMSGSIZE. */
  'rerequest-forever',
  /** ABORT does not reset the device: it continues from stale state. */
  'ignore-abort',
  /**
   * A scripted transaction: any of the response's dwords, the STATUS bits and
   * the time they take, as the parameters say (the device's own answer for the
   * rest); `sticky` repeats it on every later GO until ABORT.
   */
  'respond',
] as const;
export type DeviceFaultKind = (typeof DEVICE_FAULT_KINDS)[number];

const u32 = wholeNumber(0, 0xffff_ffff);

/**
 * A next offset for a scripted response: a number (any dword, 4294967295 is the
 * end marker), or relative to the image length or to this transaction's chunk:
 * `len`, `len+N`, `len-N`, `chunk`, `chunk+N`, `chunk-N` (wrapping as a dword).
 */
export const OffsetExpressionSchema = z.union([
  u32,
  z
    .string()
    .check(
      z.regex(/^(len|chunk)([+-]\d{1,10})?$/, 'expected a dword, or len / chunk with an optional +N or -N'),
    ),
]);
export type OffsetExpression = z.infer<typeof OffsetExpressionSchema>;

/** The parameters of a `respond` fault, in the order the text grammar writes them. */
export const RESPOND_PARAMS = [
  'offset',
  'status',
  'headerLow',
  'headerHigh',
  'statusBits',
  'readyNs',
  'sticky',
] as const;

/**
 * A fault fires at the zero-based transaction (GO) `atTransaction`, or at each
 * transaction with `probability` (drawn from the run's seeded generator).
 * Neither given: the first transaction. Only `respond` takes the other fields.
 */
export const DeviceFaultSchema = z
  .strictObject({
    kind: z.enum(DEVICE_FAULT_KINDS),
    atTransaction: z.optional(wholeNumber(0, 100_000_000)),
    probability: z.optional(numberIn(0, 1)),
    /** The response's next-offset dword. */
    offset: z.optional(OffsetExpressionSchema),
    /** The response's status dword (bit 0 success, 1 in progress, 2 error; any bits). */
    status: z.optional(u32),
    /** The response header's low and high dwords (correct: 0x000b8086 and 4). */
    headerLow: z.optional(u32),
    headerHigh: z.optional(u32),
    /**
     * STATUS from the transaction's ready time on (bit 31 READY, bit 2 ERROR; any
     * bits). Without READY the response can never be read; with ERROR, or without
     * READY, the chunk is not taken.
     */
    statusBits: z.optional(u32),
    /** Processing time of the transaction in ns (default: the profile's). */
    readyNs: z.optional(numberIn(0, 86_400e9)),
    /** Answer every later GO the same way, until the next honoured ABORT. */
    sticky: z.optional(z.boolean()),
  })
  .check(
    z.refine((f) => f.atTransaction === undefined || f.probability === undefined, {
      message: 'give atTransaction or probability, not both',
    }),
    z.refine((f) => f.kind === 'respond' || RESPOND_PARAMS.every((k) => f[k] === undefined), {
      message:
        'only a respond fault takes offset, status, headerLow, headerHigh, statusBits, readyNs or sticky',
    }),
  );
export type DeviceFault = z.infer<typeof DeviceFaultSchema>;
