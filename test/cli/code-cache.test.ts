import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST, requireDist } from './built.js';

// The built CLI runs its model commands from one script with a V8 code cache made at build
// time (src/cli/load-cli.ts). Made by this Node, the cache must be the one V8 accepts.

beforeAll(requireDist);

describe('the CLI code cache', () => {
  it('ships beside the script and is accepted by the Node that built it', async () => {
    expect(existsSync(join(DIST, 'cli', 'cli.cjs'))).toBe(true);
    expect(existsSync(join(DIST, 'cli', 'cli.cache'))).toBe(true);
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(pathToFileURL(join(DIST, 'cli', 'load-cli.js')).href)});
         const cli = m.loadCli(${JSON.stringify(join(DIST, 'cli'))});
         console.log(typeof cli.main, m.codeCacheUsed());`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function true');
  });

  it('the bin (CommonJS) runs a model command and a light one without the ES module loader, nor unused Node modules', () => {
    const probe = join(DIST, '..', `.module-probe-${process.pid}.cjs`);
    writeFileSync(
      probe,
      "process.on('exit', () => require('node:fs').writeSync(2, JSON.stringify(process.moduleLoadList)));\n",
    );
    try {
      const loaded = (args: string[]) => {
        const r = spawnSync(process.execPath, ['-r', probe, join(DIST, 'cli', 'main.cjs'), ...args], {
          encoding: 'utf8',
          env: { ...process.env, UCODE_STAGING_FIRMWARE_DIR: '/nonexistent', NO_COLOR: '1' },
        });
        expect(r.status).toBe(0);
        return JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('['))) as string[];
      };
      const esm = 'NativeModule internal/modules/esm/module_job';
      const simulate = loaded(['simulate', '-m', 'up', '--image-size', '16K', '-q']);
      expect(simulate).not.toContain(esm);
      // Node modules of other commands load when used (builtins.ts), not with the script.
      for (const m of ['worker_threads', 'zlib', 'http', 'child_process'])
        expect(simulate).not.toContain(`NativeModule ${m}`);
      expect(loaded(['--version'])).not.toContain(esm);
      // The bin's old name runs it too.
      const old = spawnSync(process.execPath, [join(DIST, 'cli', 'main.js'), '--version'], {
        encoding: 'utf8',
      });
      expect(old.stdout).toMatch(/^ucode-staging \d/);
    } finally {
      rmSync(probe, { force: true });
    }
  });

  it('the cached script and the per-command chunks give the same output', () => {
    const env = { ...process.env, UCODE_STAGING_FIRMWARE_DIR: '/nonexistent', NO_COLOR: '1' };
    const args = JSON.stringify(['simulate', '-m', 'up', '--image-size', '16K', '--json', '-']);
    const url = (f: string) => JSON.stringify(pathToFileURL(join(DIST, 'cli', f)).href);
    const through = (load: string) =>
      spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `const cli = ${load}; process.exitCode = await cli.main(${args});`],
        { encoding: 'utf8', env },
      );
    const cached = through(
      `(await import(${url('load-cli.js')})).loadCli(${JSON.stringify(join(DIST, 'cli'))})`,
    );
    const chunks = through(
      `(await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(join(DIST, 'cli', 'light.cjs'))})`,
    );
    expect(cached.status).toBe(0);
    expect(cached.stderr).toBe('');
    expect(cached.stdout).toContain('"schema": "ucode-staging/result@2"');
    expect(chunks.stdout).toBe(cached.stdout);
  });
});
