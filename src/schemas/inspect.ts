import { FORMAT_ERROR_KINDS } from '../format/errors.js';
import { INSPECT_SCHEMA } from '../format/inspect-report.js';
import { wholeNumber, z } from '../zod.js';
import { Count, def, doc, Hex } from './wire.js';

// `inspect --json` (InspectReport in src/format/inspect-report.ts, docs/format.md).

const Fms = doc(
  z.string().check(z.regex(/^[0-9a-f]{2}-[0-9a-f]{2}-[0-9a-f]{2}$/)),
  'The firmware file name, FF-MM-SS.',
);

const BlobJson = def(
  'inspectBlob',
  z.strictObject({
    index: Count,
    offset: doc(Count, 'Byte offset of the blob in its file.'),
    signature: Hex,
    family: Count,
    model: Count,
    stepping: Count,
    fms: Fms,
    platformFlags: Hex,
    revision: Hex,
    date: doc(z.nullable(z.string()), "ISO date, or null when the header's date is not valid BCD."),
    dateRaw: doc(Hex, 'The header dword.'),
    dataSize: doc(Count, 'After the legacy 0 => 2000 rule.'),
    totalSize: doc(Count, 'After the legacy 0 => 2048 rule.'),
    metadataSize: Count,
    minRequiredRevision: Hex,
    extendedSignatures: z.array(z.strictObject({ signature: Hex, processorFlags: Hex, fms: Fms })),
    valid: doc(
      z.boolean(),
      'false only for the blob that made the kernel reject the file (listed last, without extended entries).',
    ),
  }),
  'One blob of a microcode file: its header, decoded.',
);

export const InspectJson = z.strictObject({
  schema: z.literal(INSPECT_SCHEMA),
  match: doc(
    z.nullable(
      z.strictObject({
        signature: Hex,
        platformId: z.nullable(wholeNumber(0, 7)),
        platformFlags: z.nullable(Hex),
      }),
    ),
    'The --match CPU: its signature, platform id (0-7) and flag (1 << id), or null.',
  ),
  files: z.array(
    z.strictObject({
      path: z.string(),
      size: doc(Count, 'File bytes.'),
      validBlobs: doc(Count, 'Blobs that passed every check, before --match filtering.'),
      blobs: z.array(BlobJson),
      error: doc(
        z.nullable(
          z.strictObject({
            offset: Count,
            index: Count,
            kind: z.enum(FORMAT_ERROR_KINDS),
            message: doc(z.string(), 'The kernel message, without the "microcode: " prefix.'),
          }),
        ),
        'The check that made the kernel reject the file, or null.',
      ),
    }),
  ),
  summary: z.strictObject({
    files: Count,
    validBlobs: Count,
    listedBlobs: doc(Count, 'Valid blobs in the listing: all of them, or those --match selects.'),
    invalidFiles: Count,
  }),
});
