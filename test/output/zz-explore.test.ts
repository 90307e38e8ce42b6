import { test } from 'vitest';
import { simulate, type SimulateOptions } from '../../src/sim/simulate.js';
import { PRESETS } from '../../src/platform/presets.js';
const g = PRESETS['gnr-2s']!;
const cases: Record<string, SimulateOptions> = {
  neverReady: { machine: { ...g, packageConfig: [{ faults: [{ kind: 'never-ready', atTransaction: 3 }] }] } },
  verify: { machine: { ...g, packageConfig: [{ profile: { kind: 'limited-cache', cacheChunks: 64, verifyPass: true } }] } },
  rerequestForever: { machine: { ...g, packageConfig: [{}, { faults: [{ kind: 'rerequest-forever', atTransaction: 5 }] }] } },
  
  up: { machine: 'up' },
  spr: { machine: 'spr-2s' },
  off: { machine: 'gnr-2s', policy: { staging: 'off' } },
  neverArrives: { machine: { ...g, cpuFaults: [{ cpu: 5, kind: 'never-arrives' }] } },
  rejected: { machine: { ...g, cpuFaults: [{ cpu: 7, kind: 'apply-rejected' }], offlineCpus: [300] } },
  require: { machine: 'spr-2s', policy: { staging: 'require' } },
};
test('x', () => {
  for (const [name, o] of Object.entries(cases)) {
    const t0 = performance.now();
    const r = simulate({ ...o, mmioTrace: true });
    const bad = r.trace.spans.filter((s) => !Number.isFinite(s.startNs) || !Number.isFinite(s.endNs) || s.endNs < s.startNs);
    const cats = new Map<string, number>(); for (const s of r.trace.spans) cats.set(s.cat, (cats.get(s.cat) ?? 0) + 1);
    console.log('=====', name, (performance.now() - t0).toFixed(0), 'ms', r.outcome, r.returnCode, r.stopWindow?.durationNs, 'mmio', r.mmio?.length, 'bad spans', bad.length, bad.slice(0, 3));
    console.log(JSON.stringify({...r.staging, packages: r.staging.packages.length}));
    console.log([...cats]);
    console.log(r.dmesg);
    const nonFin = r.cpus.filter((c) => !Number.isFinite(c.applyEndNs)).length;
    console.log('cpus w/o applyEnd', nonFin, 'panic', r.panicMessage, r.counts, r.reload);
  }
  const t0 = performance.now();
  const r = simulate({ machine: 'gnr-8s' });
  console.log('gnr-8s', performance.now() - t0, r.trace.spans.length, r.stopWindow);
});
