import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliMarkdown } from '../../src/cli/cli-doc.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { bashCompletion, zshCompletion } from '../../src/cli/completion.js';
import { manPage } from '../../src/cli/man.js';
import { expandPrefixes, helpText, parseCommand } from '../../src/cli/spec.js';
import { requireBuiltCli, runBuiltCli } from '../support/built-cli.js';

describe('one description per command: help, man page, completion', () => {
  it('every help line fits 80 columns and every option shows up with its default', () => {
    for (const c of COMMANDS) {
      const text = helpText(c);
      for (const line of text.split('\n')) expect(line.length, `${c.name}: ${line}`).toBeLessThanOrEqual(80);
      for (const o of c.options) {
        expect(text).toContain(`--${o.name}`);
        if (o.default !== undefined) expect(text.replace(/\s+/g, ' ')).toContain(`(default ${o.default})`);
      }
    }
  });

  it('the --hz help names the distribution defaults and the cost of 250', () => {
    const hz = COMMANDS[0]!.options.find((o) => o.name === 'hz')!;
    expect(hz.help).toMatch(/Debian and Ubuntu kernels use 250, RHEL and Fedora 1000/);
    expect(hz.default).toBe('1000');
  });

  it('the man page has every command and option', () => {
    const man = manPage(COMMANDS, '0.0.0', '2026-11-30');
    expect(man).toMatch(/^\.TH UCODE\\-STAGING 1/);
    for (const c of COMMANDS) {
      expect(man).toContain(`.SH ${c.name.toUpperCase()}`);
      for (const o of c.options) expect(man).toContain(`\\-\\-${o.name.replace(/-/g, '\\-')}`);
    }
  });

  it('bash and zsh completions are valid shell and complete every option', () => {
    const bash = bashCompletion(COMMANDS);
    expect(spawnSync('bash', ['-n'], { input: bash }).status).toBe(0);
    for (const c of COMMANDS.filter((x) => !x.name.includes(' '))) {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `${bash}\nCOMP_WORDS=(ucode-staging ${c.name} --); COMP_CWORD=2; _ucode_staging; echo "\${COMPREPLY[*]}"`,
        ],
        {
          encoding: 'utf8',
        },
      );
      for (const o of c.options) expect(r.stdout).toContain(`--${o.name}`);
    }
    const staging = spawnSync(
      'bash',
      [
        '-c',
        `${bash}\nCOMP_WORDS=(ucode-staging simulate --staging ''); COMP_CWORD=3; _ucode_staging; echo "\${COMPREPLY[*]}"`,
      ],
      { encoding: 'utf8' },
    );
    expect(staging.stdout.trim()).toBe('auto off require');
    expect(zshCompletion(COMMANDS)).toMatch(/^#compdef ucode-staging\n/);
  });
});

describe('docs/cli.md', () => {
  it('is what the command table generates (regenerate: ucode-staging help --markdown > docs/cli.md)', () => {
    // A generated file: biome leaves it alone (biome.json), so it is compared byte for byte.
    expect(readFileSync('docs/cli.md', 'utf8')).toBe(cliMarkdown(COMMANDS));
  });
});

describe('getopt conventions', () => {
  const sim = COMMANDS[0]!;
  it('an unambiguous prefix is the option; an ambiguous one names the candidates', () => {
    expect(expandPrefixes(['--mach', 'up', '--image-s=16K', '-q'], sim.options)).toEqual([
      '--machine=up',
      '--image-size=16K',
      '-q',
    ]);
    expect(() => expandPrefixes(['--s', '1'], sim.options)).toThrow(
      /option '--s' is ambiguous: --synthetic, --staging, .*--seed/,
    );
    expect(() => expandPrefixes(['--sed', '1'], sim.options)).toThrow(/did you mean '--seed'/);
  });

  it('a value that looks like an option is still a value', () => {
    expect(parseCommand(sim, ['--machine', '--x.json']).values.machine).toBe('--x.json');
    expect(parseCommand(sim, ['-m', '--x.json']).values.machine).toBe('--x.json');
  });
});

describe('the built binary', () => {
  it('--version, help <command>, did you mean', () => {
    requireBuiltCli();
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(runBuiltCli(['--version']).stdout).toBe(`ucode-staging ${pkg.version}\n`);
    const help = runBuiltCli(['help', 'compare']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: ucode-staging compare /);
    const typo = runBuiltCli(['simulat']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'simulat' \(did you mean 'simulate'\?\)/);
    const opt = runBuiltCli(['simulate', '--sed', '3']);
    expect(opt.status).toBe(2);
    expect(opt.stderr).toBe("ucode-staging simulate: unknown option '--sed' (did you mean '--seed'?)\n");
    expect(runBuiltCli(['completion', 'fish']).status).toBe(2);
  });
});
