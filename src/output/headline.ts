import type { SimulationResult } from '../sim/result-types.js';
import { DEFAULT_COST_MODEL } from '../time/cost-model.js';

// The one sentence an operator reads first: how long the CPUs stand still, or
// why they never did, or why the write never comes back. Rounded to what the
// model can claim; the lines below it carry the exact figures.

/** A duration as a person says it: "62 ms", "1.6 s", "3.4 min". Two significant digits. */
export function roughDuration(ns: number): string {
  const two = (x: number): string => (x >= 10 ? String(Math.round(x)) : x.toFixed(1).replace(/\.0$/, ''));
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${two(ns / 1e3)} µs`;
  if (ns < 1e9) return `${two(ns / 1e6)} ms`;
  if (ns < 120e9) return `${two(ns / 1e9)} s`;
  return `${two(ns / 60e9)} min`;
}

/** HZ and whether the cost model is the default one: the assumptions every figure rests on. */
function assumptions(r: SimulationResult): string {
  const changed = (Object.keys(DEFAULT_COST_MODEL) as (keyof typeof DEFAULT_COST_MODEL)[]).filter(
    (k) => k !== 'hz' && k !== 'kernelGeneration' && r.costModel[k] !== DEFAULT_COST_MODEL[k],
  );
  const model = changed.length === 0 ? 'default cost model' : `cost model with ${changed.join(', ')} changed`;
  return `model estimate: HZ ${r.costModel.hz}, kernel ${r.costModel.kernelGeneration}, ${model}`;
}

function stagingClause(r: SimulationResult): string {
  const st = r.staging;
  if (!st.attempted) return 'no staging';
  if (st.ok) return `staging ran ${roughDuration(st.durationNs)} beforehand, outside that window`;
  return `staging failed (${st.errno}) after ${roughDuration(st.durationNs)}, so the load went on unstaged`;
}

/** The summary's first line. */
export function headline(r: SimulationResult): string {
  const n = r.machine.onlineCpus;
  const cpus = n === 1 ? 'The one CPU stands' : `${n === r.machine.cpus ? 'All ' : ''}${n} CPUs stand`;
  switch (r.outcome) {
    case 'panic':
      return `The machine panics: ${r.panicMessage ?? 'a CPU gave up waiting'}. The write to reload never returns.`;
    case 'hang':
      return `The machine hangs: ${r.hangReason ?? 'stop_machine never completes'}. The write to reload never returns.`;
    case 'kernel-does-not-terminate':
      return `The write to reload never returns: ${r.stuck ? `${r.stuck.where} loops for ever (${r.stuck.reason})` : 'the kernel loops for ever'}; the CPUs keep running.`;
    default:
      break;
  }
  if (!r.stopWindow) {
    const why =
      r.outcome === 'aborted'
        ? `the load was aborted (staging failed, ${r.staging.errno}, and the policy requires it)`
        : r.outcome === 'not-found'
          ? 'the kernel found no newer image (-ENOENT)'
          : r.outcome === 'busy'
            ? 'a CPU the load needs is offline (-EBUSY)'
            : r.outcome === 'bad-firmware'
              ? 'the kernel rejected the firmware file (-EBADFD)'
              : `the load ended with ${r.returnCodeName} before stopping them`;
    return `The CPUs were never stopped: ${why}.`;
  }
  const what =
    r.outcome === 'updated' ? '' : ` and the load ended ${r.outcome} (reload returned ${r.returnCodeName})`;
  return `${cpus} still for about ${roughDuration(r.stopWindow.durationNs)}${what} (${assumptions(r)}; ${stagingClause(r)}).`;
}
