import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/io.js';
import { writeFileAtomic } from '../../src/cli/output-file.js';
import { runCli } from '../../src/cli/run.js';
import { captureIo } from './helpers.js';

// Output paths a user can get wrong: a folder that does not exist or cannot be
// written, a path that is a folder, a file that already exists. Never a
// half-written file: the old file or the whole new one, and no leftovers.

const dir = mkdtempSync(join(tmpdir(), 'ucode-out-'));
afterAll(() => {
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

/** A folder this process cannot create files in: read-only sysfs as root, else a 0555 folder. */
function unwritableFolder(): string | undefined {
  const candidate = process.getuid?.() === 0 ? '/sys' : join(dir, 'read-only');
  if (candidate !== '/sys') {
    mkdirSync(candidate, { recursive: true });
    chmodSync(candidate, 0o555);
  }
  try {
    writeFileSync(join(candidate, '.ucode-probe'), '');
    rmSync(join(candidate, '.ucode-probe'), { force: true });
    return undefined;
  } catch {
    return candidate;
  }
}
const UNWRITABLE = unwritableFolder();

const noTemporaries = (folder: string) => readdirSync(folder).filter((n) => n.endsWith('.tmp'));

describe('writeFileAtomic', () => {
  it('a folder that does not exist: a usage error, nothing created', () => {
    const target = join(dir, 'missing', 'out.json');
    expect(() => writeFileAtomic(target, '{}')).toThrow(UsageError);
    expect(() => writeFileAtomic(target, '{}')).toThrow(
      `cannot write '${target}': folder '${join(dir, 'missing')}' does not exist`,
    );
    expect(readdirSync(dir)).not.toContain('missing');
  });

  it('a path that is a folder: a usage error, the folder untouched', () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    writeFileSync(join(folder, 'keep'), 'x');
    expect(() => writeFileAtomic(folder, '{}')).toThrow(`cannot write '${folder}': it is a folder`);
    expect(readdirSync(folder)).toEqual(['keep']);
  });

  it.skipIf(UNWRITABLE === undefined)('a folder that cannot be written: a usage error, no file', () => {
    const target = join(UNWRITABLE!, 'out.json');
    expect(() => writeFileAtomic(target, '{}')).toThrow(
      new RegExp(`cannot write '${target}': (permission denied|read-only file system)`),
    );
  });

  it('an existing file is replaced by the whole new content', () => {
    const target = join(dir, 'existing.json');
    writeFileSync(target, 'old content that is longer than the new one');
    writeFileAtomic(target, '{"new":1}\n');
    expect(readFileSync(target, 'utf8')).toBe('{"new":1}\n');
    expect(noTemporaries(dir)).toEqual([]);
  });

  it('a write that fails halfway leaves the old file whole and no temporary file', () => {
    const target = join(dir, 'keep-old.json');
    writeFileSync(target, 'old');
    function* chunks(): Generator<string> {
      yield 'x'.repeat(2 << 20);
      throw new Error('the producer failed');
    }
    // A failing producer is a bug, not a usage error: its error passes through unchanged.
    expect(() => writeFileAtomic(target, chunks())).toThrow(/^the producer failed$/);
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(noTemporaries(dir)).toEqual([]);
  });

  it('large outputs in chunks arrive whole', () => {
    const target = join(dir, 'big.txt');
    const parts = Array.from(
      { length: 50 },
      (_, i) => `${String(i).padStart(4, '0')}${'.'.repeat(100_000)}\n`,
    );
    writeFileAtomic(target, parts);
    expect(readFileSync(target, 'utf8')).toBe(parts.join(''));
  });
});

async function cli(...args: string[]) {
  const { io, out } = captureIo({ UCODE_STAGING_FIRMWARE_DIR: join(dir, 'no-firmware') });
  const code = await runCli(args, io);
  return { code, ...out() };
}

describe('the CLI outputs: --json, --trace, --failing', () => {
  const sim = ['simulate', '-m', 'up', '--image-size', '16K', '-q'];

  it.each([
    ['--json', 'simulate'],
    ['--trace', 'simulate'],
    ['--json', 'campaign'],
    ['--failing', 'campaign'],
  ])('%s of %s to a folder that does not exist: exit 2, nothing written', async (flag, command) => {
    const target = join(dir, 'nope', 'out.json');
    const args = command === 'simulate' ? [...sim, flag, target] : ['campaign', '--runs', '5', flag, target];
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(`^ucode-staging ${command}: .*cannot write '${target}': folder '.*nope' does not exist\\n$`),
    );
    expect(readdirSync(dir)).not.toContain('nope');
  });

  it.each([
    ['--json', 'simulate'],
    ['--trace', 'simulate'],
    ['--json', 'campaign'],
    ['--failing', 'campaign'],
  ])('%s of %s to a path that is a folder: exit 2', async (flag, command) => {
    const folder = join(dir, `folder-${flag.slice(2)}-${command}`);
    mkdirSync(folder);
    const args = command === 'simulate' ? [...sim, flag, folder] : ['campaign', '--runs', '5', flag, folder];
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/it is a folder\n$/);
    expect(readdirSync(folder)).toEqual([]);
  });

  it.skipIf(UNWRITABLE === undefined)(
    '--json of simulate and campaign to a folder that cannot be written: exit 2',
    async () => {
      const target = join(UNWRITABLE!, 'out.json');
      for (const args of [
        [...sim, '--json', target],
        ['campaign', '--runs', '5', '--json', target],
      ]) {
        const r = await cli(...args);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/(permission denied|read-only file system)\n$/);
      }
    },
  );

  it('the campaign refuses a bad output path before it runs', async () => {
    const started = performance.now();
    const r = await cli('campaign', '--runs', '100000', '--json', join(dir, 'nope', 'x.json'));
    expect(r.code).toBe(2);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('--json and --trace over existing files replace them whole', async () => {
    const json = join(dir, 'r.json');
    const trace = join(dir, 't.json');
    writeFileSync(json, 'stale');
    writeFileSync(trace, 'stale');
    const r = await cli(...sim, '--json', json, '--trace', trace);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).schema).toBe('ucode-staging/result@2');
    expect(JSON.parse(readFileSync(trace, 'utf8'))).toBeTypeOf('object');
    expect(noTemporaries(dir)).toEqual([]);
  });
});

describe('the CLI outputs: devices, FIFOs and symlinks are not replaced', () => {
  const sim = ['simulate', '-m', 'up', '--image-size', '16K', '-q'];

  it('--json and --trace to a character device: it stays one', async () => {
    let device = join(dir, 'null-device');
    try {
      execFileSync('mknod', [device, 'c', '1', '3'], { stdio: 'ignore' });
    } catch {
      device = '/dev/null';
    }
    const r = await cli(...sim, '--json', device, '--trace', device);
    expect(r.code).toBe(0);
    expect(lstatSync(device).isCharacterDevice()).toBe(true);
    expect(lstatSync(device).rdev).toBe(statSync('/dev/null').rdev);
    expect(noTemporaries(dir)).toEqual([]);
  });

  it('--json to a symlink: the target is written, the link stays', async () => {
    const link = join(dir, 'result-link.json');
    symlinkSync('result-real.json', link);
    const r = await cli(...sim, '--json', link);
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'result-real.json'), 'utf8')).schema).toBe(
      'ucode-staging/result@2',
    );
  });

  it('--json to a FIFO: written to its reader, the FIFO stays', async () => {
    const fifo = join(dir, 'result-fifo');
    execFileSync('mkfifo', [fifo]);
    const received = join(dir, 'result-fifo-received');
    const reader = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', fifo, received]);
    const done = new Promise((ok) => reader.on('exit', ok));
    const r = await cli(...sim, '--json', fifo);
    await done;
    expect(r.code).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(JSON.parse(readFileSync(received, 'utf8')).schema).toBe('ucode-staging/result@2');
  });
});
