import type { CostModelOverrides, MachineSpecInput } from '../platform/machine-spec.js';
import { simulate } from '../sim/simulate.js';
import type { DerivedMachine } from './derived-machine.js';
import type { StagingFacts } from './staging-facts.js';

/** The figures of one model run on the derived machine. */
export interface PredictionFigures {
  outcome: string;
  /** 0 or -errno, as the reload write would return. */
  returnCode: number;
  returnCodeName: string;
  /** All CPUs stopped (stop_machine + NMI rendezvous); null when the load never got there. */
  stopWindowNs: number | null;
  stagingNs: number;
  /** From the write to the reload file to its return. */
  reloadNs: number;
  stagingPasses: number;
  stagingOk: boolean;
}

export interface Prediction {
  /** Under what condition the figures hold when the host would not load as it is, else null. */
  hypothetical: string | null;
  /** Which run is this host as it is: its kernel and CPU decide. */
  thisHost: 'with-staging' | 'without-staging' | 'unknown';
  /** Staging on (as the 6.19 kernel does when the CPU enumerates it); null when the CPU has no staging. */
  withStaging: PredictionFigures | null;
  withoutStaging: PredictionFigures;
  /** Everything the figures assume, in one line. */
  assumptions: string;
  approximations: string[];
}

export interface PredictionInput {
  derived: DerivedMachine;
  staging: StagingFacts;
  /** The whole firmware file: the model selects the blob itself, as the kernel does. */
  firmware: Uint8Array;
  forceMinrev: boolean;
  hypothetical: string | null;
  /** The machine's packages x cores x threads and numbering are this host's. */
  exactTopology: boolean;
  /** The --cost overrides given, named in the assumptions. */
  costOverrides?: CostModelOverrides;
}

function figures(
  machine: MachineSpecInput,
  input: PredictionInput,
  staging: 'auto' | 'off',
): PredictionFigures {
  const r = simulate({
    machine,
    firmware: input.firmware,
    policy: { staging, forceMinrev: input.forceMinrev },
    seed: 1,
    trace: false,
  });
  return {
    outcome: r.outcome,
    returnCode: r.returnCode,
    returnCodeName: r.returnCodeName,
    stopWindowNs: r.stopWindow?.durationNs ?? null,
    stagingNs: r.staging.durationNs,
    reloadNs: r.reload.durationNs,
    stagingPasses: r.staging.packages.length,
    stagingOk: r.staging.ok,
  };
}

/**
 * simulate() on the host's own topology, image and HZ, with staging and without. When the
 * CPU's staging bits are unknown, the "with" run assumes they are set.
 */
export function predict(input: PredictionInput): Prediction {
  const { derived, staging } = input;
  const machine = derived.machine;
  const capable = staging.support !== 'not-supported';
  const withBits: MachineSpecInput = { ...machine, staging: { archCapMcuEnum: true, mcuStaging: true } };
  const withStaging = capable ? figures(withBits, input, 'auto') : null;
  const withoutStaging = figures(machine, input, 'off');
  const thisHost =
    staging.kernelHasStaging === false || staging.support === 'not-supported'
      ? 'without-staging'
      : staging.support === 'unknown' || staging.kernelHasStaging === null
        ? 'unknown'
        : 'with-staging';
  const given = Object.entries(input.costOverrides ?? {}).filter(([k]) => k !== 'hz');
  const assumptions = [
    given.length === 0
      ? 'the default cost model (estimates: docs/cost-model.md)'
      : `the default cost model with ${given.map(([k, v]) => `${k}=${v}`).join(', ')}`,
    derived.hzSource,
    `msleep rounding of ${machine.cost?.kernelGeneration ?? '6.12+'} kernels`,
    'ideal mailboxes',
    'Linux 6.19 loader',
    staging.support === 'unknown' ? 'staging bits assumed set for the staged run' : null,
    input.exactTopology ? 'this exact topology' : 'an approximated topology (see the numbering notes)',
  ]
    .filter((a) => a !== null)
    .join(', ');
  return {
    hypothetical: input.hypothetical,
    thisHost,
    withStaging,
    withoutStaging,
    assumptions,
    approximations: derived.approximations,
  };
}
