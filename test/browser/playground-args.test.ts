import { describe, expect, it } from 'vitest';
import { playgroundHash } from '../../src/cli/playground.js';
import { argvOfHash, cliCommand, hashOf, parseRun, runArgs } from '../../src/playground/args.js';

// The playground's run description: the CLI's flags in the URL hash, and back.

describe('the playground link and command', () => {
  it('a hash is the flags, a value joined to its flag, readable where a fragment allows', () => {
    const argv = [
      '--machine',
      'gnr-2s-interleaved',
      '--fault',
      '1=respond@3:offset=len,sticky',
      '--synthetic',
    ];
    expect(hashOf(argv)).toBe(
      '#--machine=gnr-2s-interleaved&--fault=1=respond@3:offset=len,sticky&--synthetic',
    );
    expect(argvOfHash(hashOf(argv))).toEqual([
      '--machine=gnr-2s-interleaved',
      '--fault=1=respond@3:offset=len,sticky',
      '--synthetic',
    ]);
    expect(hashOf([])).toBe('');
  });

  it('any value survives the hash: spaces, &, %, #, quotes, non-ASCII, a machine as JSON', () => {
    const machine = JSON.stringify({ extends: 'up', name: 'a & b', packages: 2 });
    const argv = ['--machine', machine, '--firmware', 'my file #2 100%&ü', '--seed', '7'];
    const run = parseRun(argvOfHash(hashOf(argv)));
    expect(run.firmwareName).toBe('my file #2 100%&ü');
    expect(run.options.machine).toEqual({ extends: 'up', name: 'a & b', packages: 2 });
    expect(run.options.seed).toBe(7);
    // Canonical: the flags of the parsed run read back to the same run.
    expect(parseRun(runArgs(run))).toEqual(run);
  });

  it('the CLI prints the same hash as the page makes', () => {
    const argv = runArgs(
      parseRun(['-m', 'up', '--fault', 'never-ready@0', '--hz', '250', '--image-size', '64K']),
    );
    expect(playgroundHash(argv)).toBe(hashOf(argv));
  });

  it('the command says --synthetic, writes a machine shape to a file, and quotes a file name', () => {
    expect(cliCommand(parseRun(['--seed', '3']))).toBe('ucode-staging simulate --synthetic --seed 3');
    expect(cliCommand(parseRun(['--firmware', 'my file', '--fault', '1=never-ready@0']))).toBe(
      "ucode-staging simulate --firmware 'my file' --fault 1=never-ready@0",
    );
    const shaped = cliCommand(parseRun(['--machine', '{"extends":"gnr-2s","packages":3}']));
    expect(shaped).toBe(
      `printf '%s\\n' '{"extends":"gnr-2s","packages":3}' > playground-machine.json && ucode-staging simulate --synthetic --machine playground-machine.json`,
    );
  });

  it("bad input gets the grammar's messages", () => {
    expect(() => parseRun(['--fault', 'nonsense'])).toThrow(/bad --fault 'nonsense'/);
    expect(() => parseRun(['--bogus'])).toThrow(/unknown option '--bogus'/);
    expect(() => parseRun(['--firmware', 'x', '--image-size', '1M'])).toThrow(/exclude each other/);
    expect(() => parseRun(['--machine', '{not json'])).toThrow(/--machine: not valid JSON/);
  });
});
