import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  collectHostFiles,
  formatProbeReport,
  type HostEntry,
  MemoryHostReader,
  probeHost,
  probeReportJson,
} from '../../src/index.js';

// Whatever a host's files hold, the probe answers with a verdict and says what was wrong: it
// never throws. And src/probe stays pure: no Node API, so a browser can probe a saved host.

const PATHS = [
  '/proc/cpuinfo',
  '/proc/sys/kernel/osrelease',
  '/proc/cmdline',
  '/boot/config-6.19.0',
  '/sys/devices/system/cpu/possible',
  '/sys/devices/system/cpu/present',
  '/sys/devices/system/cpu/online',
  '/sys/devices/system/cpu/offline',
  '/sys/devices/system/cpu/smt/control',
  '/sys/devices/system/cpu/cpu0/topology/physical_package_id',
  '/sys/devices/system/cpu/cpu0/topology/thread_siblings_list',
  '/sys/devices/system/cpu/cpu0/topology/core_id',
  '/sys/devices/system/cpu/cpu0/microcode/version',
  '/sys/devices/system/cpu/cpu0/microcode/processor_flags',
  '/sys/devices/system/cpu/cpu1/topology/thread_siblings_list',
  '/lib/firmware/intel-ucode/06-ad-01',
];

const GOOD: Record<string, string> = {
  '/proc/cpuinfo':
    'processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 173\nstepping\t: 1\nmicrocode\t: 0x10003a2\nflags\t\t: fpu arch_capabilities\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n',
  '/proc/sys/kernel/osrelease': '6.19.0\n',
  '/proc/cmdline': 'quiet\n',
  '/boot/config-6.19.0': 'CONFIG_MICROCODE=y\nCONFIG_MICROCODE_LATE_LOADING=y\nCONFIG_HZ=250\n',
  '/sys/devices/system/cpu/possible': '0-1\n',
  '/sys/devices/system/cpu/present': '0-1\n',
  '/sys/devices/system/cpu/online': '0-1\n',
  '/sys/devices/system/cpu/cpu0/topology/thread_siblings_list': '0-1\n',
  '/sys/devices/system/cpu/cpu1/topology/thread_siblings_list': '0-1\n',
};

const text = fc.oneof(
  fc.string(),
  fc.constantFrom('', '\n', '0-1', '0-70000', '-1', '0x', '0xzz', 'processor : x', '3-1,', '\u0000\u001b[2J'),
);
const entry: fc.Arbitrary<HostEntry | string> = fc.oneof(
  text,
  fc.uint8Array({ maxLength: 300 }).map((bytes): HostEntry => ({ kind: 'file', bytes })),
  fc.constant<HostEntry>({ kind: 'unreadable', reason: 'permission denied' }),
  fc.constant<HostEntry>({ kind: 'missing' }),
);

function probeOf(files: Record<string, string | Uint8Array | HostEntry>) {
  return probeHost(collectHostFiles(MemoryHostReader.of(files)));
}

describe('odd hosts', () => {
  it('an empty host: unknown, and every missing file named', () => {
    const { report } = probeOf({});
    expect(report.verdict.kind).toBe('unknown');
    expect(report.exitStatus).toBe(1);
    expect(report.notes).toContain('/proc/cpuinfo missing');
    expect(formatProbeReport(report)).toContain('verdict     unknown');
  });

  it('any file holding anything: a verdict, never an exception', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...PATHS), entry), (over) => {
        const { report } = probeOf({ ...GOOD, ...over });
        expect(report.schema).toBe('ucode-staging/probe@1');
        expect([0, 1]).toContain(report.exitStatus);
        expect(() => JSON.parse(probeReportJson(report))).not.toThrow();
        // biome-ignore lint/suspicious/noControlCharactersInRegex: none may reach the terminal
        expect(formatProbeReport(report)).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('a host whose CPU lists disagree with cpuinfo is still described', () => {
    const { report } = probeOf({
      ...GOOD,
      '/sys/devices/system/cpu/present': 'garbage',
      '/sys/devices/system/cpu/online': '',
    });
    expect(report.host.topology.present).toBe(2);
    expect(report.notes.join('\n')).toContain('/sys/devices/system/cpu/present: not a CPU list');
  });

  it('src/probe imports no Node API and uses no Node or wall-clock global', () => {
    const offenders: string[] = [];
    const dir = fileURLToPath(new URL('../../src/probe/', import.meta.url));
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (!statSync(file).isFile()) continue;
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/from\s+'([^']+)'/g))
        if (!m[1]!.startsWith('.')) offenders.push(`${name}: ${m[1]}`);
      const code = src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      if (/\bprocess\.|\bBuffer\.|Math\.random|Date\.now|performance\.now/.test(code))
        offenders.push(`${name}: a global`);
      for (const m of src.matchAll(/from\s+'(\.\.\/[^']+)'/g))
        if (/\/(cli|bench)\//.test(m[1]!)) offenders.push(`${name}: ${m[1]}`);
    }
    expect(offenders).toEqual([]);
  });
});
