import type { Rng } from '../rng.js';
import type { DeviceFault } from './config.js';

/**
 * Decides which configured fault (if any) fires at a transaction. Called once
 * per GO, in transaction order, so the draws — and with them the whole run —
 * depend only on the seed and the transaction index.
 *
 * Every fault with a probability draws at every transaction, even when an
 * earlier fault in the list already fired there; the first hit in list order
 * is the one that fires (one fault per transaction).
 */
export class FaultSchedule {
  constructor(
    private readonly faults: readonly DeviceFault[],
    private readonly rng: Rng,
  ) {}

  at(index: number): DeviceFault | undefined {
    let fired: DeviceFault | undefined;
    for (const f of this.faults) {
      let hit: boolean;
      if (f.atTransaction !== undefined) hit = index === f.atTransaction;
      else if (f.probability !== undefined) hit = this.rng.chance(f.probability);
      else hit = index === 0;
      if (hit && fired === undefined) fired = f;
    }
    return fired;
  }
}
