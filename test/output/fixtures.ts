import type { MachineSpecInput } from '../../src/platform/machine-spec.js';
import { PRESETS } from '../../src/platform/presets.js';
import type { SimulationResult } from '../../src/sim/result-types.js';
import { type SimulateOptions, simulate } from '../../src/sim/simulate.js';

const GNR_2S: MachineSpecInput = PRESETS['gnr-2s']!;

/** Runs the output tests share, covering success, staging faults, no staging and a hang. */
export const SCENARIOS = {
  'gnr-2s': { machine: 'gnr-2s' },
  up: { machine: 'up' },
  'spr-2s (no staging)': { machine: 'spr-2s' },
  'staging off': { machine: 'gnr-2s', policy: { staging: 'off' } },
  'never-ready at transaction 3': {
    machine: { ...GNR_2S, packageConfig: [{ faults: [{ kind: 'never-ready', atTransaction: 3 }] }] },
  },
  'limited cache, verify pass': {
    machine: {
      ...GNR_2S,
      packageConfig: [{ profile: { kind: 'limited-cache', cacheChunks: 64, verifyPass: true } }],
    },
  },
  'rerequest forever on package 1': {
    machine: {
      ...GNR_2S,
      packageConfig: [{}, { faults: [{ kind: 'rerequest-forever', atTransaction: 5 }] }],
    },
  },
  'CPU never arrives (hang)': { machine: { ...GNR_2S, cpuFaults: [{ cpu: 5, kind: 'never-arrives' }] } },
  'apply rejected, one CPU offline': {
    machine: { ...GNR_2S, cpuFaults: [{ cpu: 7, kind: 'apply-rejected' }], offlineCpus: [300] },
  },
} satisfies Record<string, SimulateOptions>;

export type ScenarioName = keyof typeof SCENARIOS;

const cache = new Map<string, SimulationResult>();

/** One simulate() per scenario and test file (with the MMIO trace recorded). */
export function run(name: ScenarioName): SimulationResult {
  let r = cache.get(name);
  if (!r) {
    r = simulate({ ...SCENARIOS[name], mmioTrace: true });
    cache.set(name, r);
  }
  return r;
}

export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

/** A structural copy of a result (the non-enumerable `mmio` recorder is carried over). */
export function cloneResult(r: SimulationResult): SimulationResult {
  const copy = structuredClone({ ...r }) as SimulationResult;
  if (r.mmio) Object.defineProperty(copy, 'mmio', { value: r.mmio, enumerable: false });
  return copy;
}
