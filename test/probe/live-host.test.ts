import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ProbeReport } from '../../src/index.js';
import { probeCli } from './run-probe.js';

// The machine running the tests is a real host: probe it, read-only. CI runs on an AMD EPYC
// VM, where the only right verdict is "not applicable".

describe('probe on this machine (/)', () => {
  it('gives a verdict (exit 0 or 1, never 2), and "not applicable" on AMD or in a VM guest', async () => {
    const json = await probeCli('--json');
    expect(json.stderr).toBe('');
    expect([0, 1]).toContain(json.code);
    const report = JSON.parse(json.stdout) as ProbeReport;
    expect(report.exitStatus).toBe(json.code);
    expect(report.host.topology.online).toBeGreaterThan(0);
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    if (/^vendor_id\s*:\s*AuthenticAMD/m.test(cpuinfo)) {
      expect(report.host.vendor).toBe('AuthenticAMD');
      expect(report.verdict.kind).toBe('not-applicable');
    }
    if (/^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)) {
      expect(report.host.virtualization).toBe('vm-guest');
      expect(report.verdict.kind).toBe('not-applicable');
    }
    const text = await probeCli();
    expect(text.code).toBe(json.code);
    expect(text.stdout).toContain(`verdict     ${report.verdict.summary}`);
  });

  it('the host reader opens nothing for writing: every open is O_RDONLY, writes only in --save', () => {
    const src = readFileSync(
      fileURLToPath(new URL('../../src/cli/probe-host-reader.ts', import.meta.url)),
      'utf8',
    );
    const opens = [...src.matchAll(/openSync\(([^)]*)\)/g)].map((m) => m[1]!);
    expect(opens.length).toBeGreaterThan(0);
    for (const args of opens) expect(args).toContain('constants.O_RDONLY');
    const save = src.indexOf('export function saveHostFiles');
    for (const call of ['writeFileSync(', 'mkdirSync(']) {
      const at = src.indexOf(call, src.indexOf('} from'));
      expect(at, call).toBeGreaterThan(save);
    }
  });
});
