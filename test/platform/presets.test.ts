import { describe, expect, it } from 'vitest';
import { DEFAULT_PRESET, findPreset, PRESETS } from '../../src/platform/presets.js';

describe('presets', () => {
  it('findPreset gives every preset by its name', () => {
    for (const [name, preset] of Object.entries(PRESETS)) {
      expect(findPreset(name)).toBe(preset);
      expect(preset.name).toBe(name);
    }
    expect(findPreset(DEFAULT_PRESET)).toBeDefined();
  });

  it("findPreset does not resolve Object.prototype's names, nor unknown ones", () => {
    for (const name of [
      'constructor',
      'toString',
      '__proto__',
      'hasOwnProperty',
      'valueOf',
      'isPrototypeOf',
      '__defineGetter__',
      '',
      'GNR-2S',
      'gnr-2s ',
    ]) {
      expect(findPreset(name), name).toBeUndefined();
    }
  });

  it('gnr-2s-interleaved is gnr-2s numbered across sockets, nothing else', () => {
    const { name, description, numbering, ...rest } = findPreset('gnr-2s-interleaved')!;
    const { name: _n, description: _d, ...gnr } = findPreset('gnr-2s')!;
    expect(rest).toEqual(gnr);
    expect(numbering).toEqual({ packages: 'interleaved', smt: 'last' });
    expect(name).toBe('gnr-2s-interleaved');
    expect(description).toMatch(/^gnr-2s /);
  });
});
