import type { LoadOutcome } from '../kernel/core.js';
import { PolicySchema } from '../kernel/policy.js';
import { CostModelOverridesSchema, MachineSpecSchema } from '../platform/machine-spec.js';
import { DeviceFaultSchema, DeviceProfileSchema } from '../platform/mailbox/config.js';
import { PRESETS } from '../platform/presets.js';
import { z } from '../zod.js';
import { def, exactly, filled, Hex, mapShape, required } from './wire.js';

// Pieces more than one output prints: the run's configuration as the result
// holds it, and machine files. Derived from the project's zod schemas, so a new
// policy knob or cost parameter shows up here without an edit.

/** What the late load came to (LoadOutcome in src/kernel/core.ts). */
export const LoadOutcomeJson = def(
  'loadOutcome',
  exactly<LoadOutcome>()([
    'updated',
    'partial',
    'no-change',
    'failed',
    'not-found',
    'bad-firmware',
    'busy',
    'aborted',
    'panic',
    'hang',
    'kernel-does-not-terminate',
  ]),
  'What the late load came to: updated, partial (-EIO), no-change, failed, not-found (-ENOENT), bad-firmware (-EBADFD), busy (-EBUSY), aborted (staging=require), panic, hang, kernel-does-not-terminate.',
);

/** The policy as the result holds it: PolicySchema with every default filled in. */
export const PolicyJson = def(
  'policy',
  filled(PolicySchema),
  'The policy of the run (src/kernel/policy.ts), every field given; the defaults are Linux 6.19.',
);

/** Every cost parameter of the run: CostModelOverridesSchema, each field required. */
export const CostModelJson = def(
  'costModel',
  required(CostModelOverridesSchema),
  'Every cost parameter the run used (docs/cost-model.md).',
);

/** A package's mailbox profile with its defaults filled in, as the result holds it. */
export const DeviceProfileJson = def(
  'deviceProfile',
  filled(DeviceProfileSchema),
  'How a package mailbox behaves (DeviceProfileSchema), every parameter given.',
);

/** A device profile as written by hand (parameters may be left to their defaults). */
export const DeviceProfileInputJson = def(
  'deviceProfileInput',
  DeviceProfileSchema,
  'How a package mailbox behaves (DeviceProfileSchema); parameters left out take their defaults.',
);

/** An injected mailbox fault, as given (none of its fields is a hex field). */
export const DeviceFaultJson = def(
  'deviceFault',
  DeviceFaultSchema,
  'An injected mailbox fault (DeviceFaultSchema), as given: only the fields set appear.',
);

/** The CPU numbering of a machine: MachineSpecSchema's `numbering`, both fields given. */
export const NumberingJson = filled(MachineSpecSchema.shape.numbering);

const spec = MachineSpecSchema.shape;

/**
 * A machine file (`simulate -m`) as a JSON output prints it: MachineSpecSchema
 * as input (defaults may be left out), with signature, initial revision, mailbox
 * addresses and low memory as hex strings (machine files take both).
 */
const machineFileFields = mapShape(spec, (s, key) => {
  switch (key) {
    case 'signature':
    case 'initialRevision':
      return Hex;
    case 'mailbox':
      return z.optional(z.strictObject({ base: Hex, stride: Hex, undecodedRead: z.optional(Hex) }));
    case 'lowMemory':
      return z.optional(z.array(Hex).check(z.length(4)));
    default:
      return s;
  }
});

export const MachineFileJson = def(
  'machineFile',
  z.union([
    z.strictObject(machineFileFields),
    z.strictObject({
      extends: z.enum(Object.keys(PRESETS) as [string, ...string[]]),
      ...mapShape(machineFileFields, (s) => z.optional(s)),
    }),
  ]),
  'A machine file as `ucode-staging simulate -m FILE` reads it (src/platform/machine-spec.ts), hex fields as hex strings; or a preset named in "extends" with fields laid over it.',
);

/** A machine file with numbers where the JSON outputs print hex (as `probe` prints its derived machine). */
export const NumericMachineFileJson = def(
  'numericMachineFile',
  MachineSpecSchema,
  'A machine file as `ucode-staging simulate -m FILE` reads it (src/platform/machine-spec.ts), with numbers for signature, initial revision and mailbox addresses.',
);
