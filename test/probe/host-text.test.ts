import { describe, expect, it } from 'vitest';
import { collectHostFiles, MemoryHostReader, probe } from '../../src/index.js';
import { kernelBool } from '../../src/probe/parse-host-text.js';

const { parseCmdline, parseCpuList, parseKernelConfig, parseRelease, readLoaderFacts, signatureOf } = probe;

describe('host text parsers', () => {
  it('CPU lists: ranges, singles, empty, garbage', () => {
    expect(parseCpuList('0-3,8,10-11\n')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('\n')).toEqual([]);
    expect(parseCpuList('3-1')).toEqual({ problem: 'bad CPU range "3-1"' });
    expect(parseCpuList('zero')).toEqual({ problem: 'not a CPU list: "zero"' });
    expect(parseCpuList('0-99999999')).toHaveProperty('problem');
  });

  it('the command line as the kernel splits it: quotes group, -- ends it', () => {
    expect(
      parseCmdline('root=/dev/sda1 quiet "acpi_osi=Linux x" dis_ucode_ldr -- microcode=force_minrev\n'),
    ).toEqual([
      { key: 'root', value: '/dev/sda1' },
      { key: 'quiet', value: undefined },
      { key: 'acpi_osi', value: 'Linux x' },
      { key: 'dis_ucode_ldr', value: undefined },
    ]);
  });

  it('kstrtobool', () => {
    for (const t of ['1', 'y', 'Y', 'on', 'true']) expect(kernelBool(t)).toBe(true);
    for (const t of ['0', 'n', 'N', 'off', 'false']) expect(kernelBool(t)).toBe(false);
    for (const t of ['', 'maybe', 'o']) expect(kernelBool(t)).toBeUndefined();
  });

  it('kernel config: set, module, not set', () => {
    const c = parseKernelConfig(
      'CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_HZ=250\nCONFIG_S="x y"\n',
    );
    expect([...c]).toEqual([
      ['CONFIG_A', 'y'],
      ['CONFIG_B', 'm'],
      ['CONFIG_C', 'n'],
      ['CONFIG_HZ', '250'],
      ['CONFIG_S', 'x y'],
    ]);
  });

  it('kernel releases', () => {
    expect(parseRelease('6.19.0-rc3-amd64\n')).toEqual({ release: '6.19.0-rc3-amd64', major: 6, minor: 19 });
    expect(parseRelease('6.8')).toEqual({ release: '6.8', major: 6, minor: 8 });
    expect(parseRelease('banana')).toHaveProperty('problem');
  });

  it('CPUID signature from family/model/stepping, extended fields included', () => {
    expect(signatureOf(6, 0xad, 1)).toBe(0xa06d1);
    expect(signatureOf(6, 0x8f, 8)).toBe(0x806f8);
    expect(signatureOf(25, 1, 1)).toBe(0xa00f11);
    expect(signatureOf(6, 0x100, 1)).toBeNull();
  });
});

/** The loader facts of a host with this release, command line and config (and optional extra files). */
function loader(release: string, cmdline: string, config: string, extra: Record<string, string> = {}) {
  const files = collectHostFiles(
    MemoryHostReader.of({
      '/proc/sys/kernel/osrelease': `${release}\n`,
      '/proc/cmdline': `${cmdline}\n`,
      [`/boot/config-${release}`]: config,
      ...extra,
    }),
  );
  return readLoaderFacts(files);
}

const LATE = 'CONFIG_MICROCODE=y\nCONFIG_MICROCODE_LATE_LOADING=y\nCONFIG_HZ=1000\n';

describe('the kernel loader facts probe accepts', () => {
  it('force_minrev on 6.18+: microcode=force_minrev (the last microcode= counts); microcode.force_minrev is ignored', () => {
    expect(loader('6.19.0', 'microcode=dbg,force_minrev', LATE).forceMinrev.value).toBe(true);
    expect(loader('6.19.0', 'microcode=force_minrev microcode=dis_ucode_ldr', LATE).forceMinrev.value).toBe(
      false,
    );
    expect(loader('6.19.0', 'microcode.force_minrev=1', LATE).forceMinrev.value).toBe(false);
  });

  it('force_minrev on 6.7-6.17: the bool module parameter and its live value; microcode= is not known there', () => {
    expect(loader('6.8.0', 'microcode.force_minrev', LATE).forceMinrev.value).toBe(true);
    expect(
      loader('6.8.0', 'microcode.force_minrev=on microcode.force_minrev=0', LATE).forceMinrev.value,
    ).toBe(false);
    expect(loader('6.8.0', 'microcode=force_minrev', LATE).forceMinrev.value).toBe(false);
    const live = loader('6.8.0', 'microcode.force_minrev=0', LATE, {
      '/sys/module/microcode/parameters/force_minrev': 'Y\n',
    });
    expect(live.forceMinrev).toEqual({
      value: true,
      source: '/sys/module/microcode/parameters/force_minrev',
    });
  });

  it('force_minrev starts as CONFIG_MICROCODE_LATE_FORCE_MINREV', () => {
    const f = loader('6.19.0', '', `${LATE}CONFIG_MICROCODE_LATE_FORCE_MINREV=y\n`).forceMinrev;
    expect(f).toEqual({ value: true, source: 'CONFIG_MICROCODE_LATE_FORCE_MINREV' });
  });

  it('dis_ucode_ldr: the bare word on any kernel, microcode=dis_ucode_ldr from 6.18', () => {
    expect(loader('6.8.0', 'dis_ucode_ldr', LATE).disUcodeLdr.value).toBe(true);
    expect(loader('6.8.0', 'dis_ucode_ldr=1', LATE).disUcodeLdr.value).toBe(false);
    expect(loader('6.19.0', 'microcode=dis_ucode_ldr', LATE).disUcodeLdr.value).toBe(true);
    expect(loader('6.17.0', 'microcode=dis_ucode_ldr', LATE).disUcodeLdr.value).toBe(false);
  });

  it('late loading: the option since 5.19, always there before; staging from 6.19, min-rev from 6.7', () => {
    expect(loader('5.15.0', '', 'CONFIG_MICROCODE=y\n').lateLoading).toBe('always');
    expect(
      loader('6.1.0', '', 'CONFIG_MICROCODE=y\n# CONFIG_MICROCODE_LATE_LOADING is not set\n').lateLoading,
    ).toBe('compiled-out');
    const f = loader('6.18.3', '', LATE);
    expect(f).toMatchObject({
      lateLoading: 'compiled-in',
      hasStaging: false,
      hasMinrevCheck: true,
      hz: 1000,
    });
    expect(loader('6.19.0', '', LATE).hasStaging).toBe(true);
    expect(loader('6.6.0', '', LATE).hasMinrevCheck).toBe(false);
  });

  it('no config at all: unknown, and said so', () => {
    const f = loader('6.19.0', '', '');
    expect(f.lateLoading).toBe('unknown');
    expect(f.hz).toBeNull();
    expect(f.problems.join(' ')).toContain('no kernel config');
  });
});
