import { type CompareReport, SWEEP_KEYS } from '../sim/compare.js';
import { wholeNumber, z } from '../zod.js';
import { LoadOutcomeJson } from './parts.js';
import { Count, def, doc, Ns, NsOrNull } from './wire.js';

// `compare --json` and compareJson(): the points of src/sim/compare.ts, without the kept results.

export const COMPARE_SCHEMA = 'ucode-staging/compare@1' satisfies CompareReport['schema'];

const RunFiguresJson = def(
  'runFigures',
  z.strictObject({
    outcome: LoadOutcomeJson,
    why: doc(
      z.nullable(z.string()),
      'Why the run did not update the machine, in one line; null when it did.',
    ),
    returnCode: doc(z.nullable(wholeNumber(undefined, 0)), 'null when the write never returns.'),
    stopWindowNs: NsOrNull,
    stagingNs: Ns,
    reloadNs: Ns,
    stagingOk: z.boolean(),
    bytesStaged: Count,
    resends: Count,
  }),
  'The figures of one run (staging off or on) that a comparison needs.',
);

export const CompareJson = z.strictObject({
  schema: z.literal(COMPARE_SCHEMA),
  points: z.array(
    z.strictObject({
      label: doc(z.string(), 'The sweep values of this point as key=value, or empty for a single point.'),
      machine: doc(z.string(), 'The machine of this point: name and CPU count.'),
      image: doc(z.string(), "The image of this point: where it came from and its size, or 'none'."),
      params: doc(
        z.partialRecord(z.enum(SWEEP_KEYS), z.string()),
        'The sweep values of this point, by sweep key, as labelled.',
      ),
      off: RunFiguresJson,
      on: RunFiguresJson,
      stopWindowReductionPct: doc(
        z.nullable(z.number()),
        'How much shorter the stop window is with staging, in percent of the unstaged one.',
      ),
    }),
  ),
});
