import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { rolldown } from 'rolldown';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/io.js';
import { REPORT_BUGS, reportError } from '../../src/cli/run.js';
import { BUILT_MAIN, requireDist } from './built.js';

// The process-level behaviour of the built CLI: a closed or full standard output, Ctrl-C
// during a long write, and errors that must stay one line.

const dir = mkdtempSync(join(tmpdir(), 'ucode-stdio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(requireDist);

const SIM = ['simulate', '-m', 'up', '--image-size', '16K'];
const env = { ...process.env, UCODE_STAGING_FIRMWARE_DIR: join(dir, 'no-firmware') };

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((ok) => child.on('exit', (code, signal) => ok({ code, signal })));
}

describe('a closed standard output', () => {
  it('the reader goes away at once: exit 141 (as if by SIGPIPE), nothing on stderr', async () => {
    const child = spawn(process.execPath, [BUILT_MAIN, ...SIM, '--json', '-'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.destroy(); // our end of the pipe is closed: the first write gets EPIPE
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const { code } = await exitOf(child);
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });

  it('`| head -1`: one line, quiet, status 141 or 0 (if all was written before head left)', () => {
    const r = spawnSync(
      'bash',
      ['-o', 'pipefail', '-c', `"$0" "$1" ${SIM.join(' ')} | head -1`, process.execPath, BUILT_MAIN],
      { encoding: 'utf8', env },
    );
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(r.stderr).toBe('');
    expect([0, 141]).toContain(r.status);
  });
});

describe('a full standard output', () => {
  it('> /dev/full: one line on stderr, exit 2', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [BUILT_MAIN, ...SIM], {
        encoding: 'utf8',
        env,
        stdio: ['ignore', full, 'pipe'],
      });
      expect(r.stderr).toBe(
        'ucode-staging simulate: cannot write standard output: no space left on device\n',
      );
      expect(r.status).toBe(2);
    } finally {
      closeSync(full);
    }
  });

  it('inspect --json > /dev/full too', () => {
    const file = join(dir, 'empty');
    writeFileSync(file, '');
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [BUILT_MAIN, 'inspect', '--json', file], {
        encoding: 'utf8',
        stdio: ['ignore', full, 'pipe'],
      });
      expect(r.stderr).toBe('ucode-staging inspect: cannot write standard output: no space left on device\n');
      expect(r.status).toBe(2);
    } finally {
      closeSync(full);
    }
  });
});

describe('Ctrl-C and SIGTERM', () => {
  /** A program that writes an endless output through planOutputs, as a command's --mmiotrace does. */
  const script = join(dir, 'endless-write.mjs');
  // The built CLI is bundled (no output-plan.js of its own in dist/): bundle the module the same way.
  beforeAll(async () => {
    const bundle = await rolldown({
      input: resolve('src/cli/output-plan.ts'),
      platform: 'node',
      logLevel: 'silent',
    });
    await bundle.write({
      dir: join(dir, 'output-plan'),
      format: 'esm',
      entryFileNames: 'output-plan.mjs',
      chunkFileNames: '[name].mjs',
    });
    await bundle.close();
    writeFileSync(
      script,
      `import { planOutputs } from ${JSON.stringify(pathToFileURL(join(dir, 'output-plan', 'output-plan.mjs')).href)};
const io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };
const plan = planOutputs([{ flag: '--mmiotrace', path: process.argv[2] }], [], io);
function* endless() { const line = 'W 4 1.000000 1 0xfed00000 0x0 0x0 0\\n'.repeat(1000); for (;;) yield line; }
await plan.write('--mmiotrace', endless());
`,
    );
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during a long write: exit %i, no temporary file, no target', async (signal, status) => {
    const folder = mkdtempSync(join(dir, 'sig-'));
    const target = join(folder, 'trace.txt');
    const child = spawn(process.execPath, [script, target], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = exitOf(child);
    // Wait until the temporary file holds a few MB: the write is under way.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const tmp = readdirSync(folder).find((n) => n.endsWith('.tmp'));
      if (tmp && statSync(join(folder, tmp)).size > 4 << 20) break;
      if (Date.now() > deadline) throw new Error(`no temporary file grew: ${stderr}`);
      await new Promise((ok) => setTimeout(ok, 20));
    }
    child.kill(signal);
    const { code } = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(status);
    expect(readdirSync(folder)).toEqual([]);
    expect(existsSync(target)).toBe(false);
  });

  it('Ctrl-C during a long simulation still stops it at once (no handler holds it back)', async () => {
    const child = spawn(process.execPath, [BUILT_MAIN, 'campaign', '--runs', '1000000'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = exitOf(child);
    await new Promise((ok) => setTimeout(ok, 1500));
    const sent = Date.now();
    child.kill('SIGINT');
    const { signal } = await exited;
    expect(signal).toBe('SIGINT');
    expect(Date.now() - sent).toBeLessThan(2000);
  });
});

describe('errors at the top: one line, and exit 3 only for a bug', () => {
  const run = (err: unknown, env: Record<string, string> = {}) => {
    let stderr = '';
    const code = reportError('ucode-staging simulate', err, { stderr: (s) => (stderr += s), env });
    return { code, stderr };
  };

  it('a usage error: 2, with control characters shown escaped', () => {
    expect(run(new UsageError("cannot read machine file '\u001b[2Jx\ny'"))).toEqual({
      code: 2,
      stderr: "ucode-staging simulate: cannot read machine file '\\x1b[2Jx\\ny'\n",
    });
  });

  it('a system error on a path: 2, named', () => {
    const err = Object.assign(new Error("EACCES: permission denied, open '/x'"), {
      code: 'EACCES',
      syscall: 'open',
      path: '/x',
    });
    expect(run(err)).toEqual({
      code: 2,
      stderr: "ucode-staging simulate: cannot open '/x': permission denied\n",
    });
  });

  it('more than fits in memory: 2', () => {
    expect(run(new RangeError('Invalid string length')).code).toBe(2);
  });

  it('a bug: 3, one line saying where to report it; the stack only with UCODE_STAGING_DEBUG', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')\nsecond line");
    const quiet = run(bug);
    expect(quiet.code).toBe(3);
    expect(quiet.stderr).toBe(
      `ucode-staging simulate: internal error: TypeError: Cannot read properties of undefined (reading 'x') (${REPORT_BUGS})\n`,
    );
    const debug = run(bug, { UCODE_STAGING_DEBUG: '1' });
    expect(debug.stderr.split('\n').length).toBeGreaterThan(3);
  });
});
