import { describe, expect, it } from 'vitest';
import { DEFAULT_COST_MODEL, msleepWakeTime } from '../../src/time/cost-model.js';

describe('msleep rounding', () => {
  const cost = (hz: number, gen: '6.12+' | 'pre-6.12' = '6.12+') => ({
    ...DEFAULT_COST_MODEL,
    hz,
    kernelGeneration: gen,
  });
  it('msleep(1) sleeps 1-2 jiffies on 6.12+, one more before', () => {
    expect(msleepWakeTime(0, 1, cost(1000))).toBe(1e6);
    expect(msleepWakeTime(1, 1, cost(1000))).toBe(2e6);
    expect(msleepWakeTime(3_999_999, 1, cost(250))).toBe(8e6);
    expect(msleepWakeTime(0, 1, cost(250))).toBe(4e6);
    expect(msleepWakeTime(1, 1, cost(1000, 'pre-6.12'))).toBe(3e6);
  });
});
