import { describe, expect, it } from 'vitest';
import { resultJson } from '../../src/sim/json.js';
import { simulate } from '../../src/sim/simulate.js';

// result.cpus is made on first read (at 65,536 CPUs the records are most of what a run
// allocates); everything a caller can observe must be as if it were a plain array.

const run = () => simulate({ machine: 'up', syntheticImageBytes: 16 * 1024, trace: false });

describe('result.cpus, made on first read', () => {
  it('has its place among the keys, before and after it is read', () => {
    const r = run();
    const before = Object.keys(r);
    expect(before.indexOf('cpus')).toBe(before.indexOf('reload') + 1);
    expect(r.cpus).toHaveLength(r.machine.cpus);
    expect(Object.keys(r)).toEqual(before);
  });

  it('is the same array on every read, and the records describe the run', () => {
    const r = run();
    const cpus = r.cpus;
    expect(r.cpus).toBe(cpus);
    expect(cpus.map((c) => c.cpu)).toEqual([...Array(r.machine.cpus).keys()]);
    const updated = cpus.filter((c) => c.result === 'updated');
    expect(updated.length).toBe(r.counts.updated);
    for (const c of updated) {
      expect(c.revisionBefore).toBe(r.revision.old);
      expect(c.revisionAfter).toBe(r.revision.new);
    }
  });

  it('JSON, spread and structuredClone see the records whether or not they were read', () => {
    const fresh = run();
    const read = run();
    void read.cpus;
    expect(resultJson(fresh)).toBe(resultJson(read));
    expect({ ...run() }.cpus).toEqual(read.cpus);
    expect(structuredClone(run()).cpus).toEqual(read.cpus);
  });

  it('is made on the first read, not before', () => {
    const r = run();
    const d = Object.getOwnPropertyDescriptor(r, 'cpus');
    expect(d?.get).toBeTypeOf('function');
    expect(d?.enumerable).toBe(true);
  });

  it('an assignment before the first read replaces it, as on a plain property', () => {
    const r = run();
    const replacement: typeof r.cpus = [];
    r.cpus = replacement;
    expect(r.cpus).toBe(replacement);
    expect(JSON.parse(resultJson(r)).cpus).toEqual([]);
  });
});
