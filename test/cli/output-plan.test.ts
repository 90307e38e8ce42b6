import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
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
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/io.js';
import { resolveOutputTarget, writeFileAtomic } from '../../src/cli/output-file.js';
import { LARGE_OUTPUT_BYTES, planOutputs } from '../../src/cli/output-plan.js';

// Every kind of output path, through planOutputs() (what the commands call) and the
// synchronous writeFileAtomic() that older callers still use.

const dir = mkdtempSync(join(tmpdir(), 'ucode-plan-'));
afterAll(() => {
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;
const temporaries = (folder = dir) => readdirSync(folder).filter((n) => n.endsWith('.tmp'));

function capture() {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: (s: string) => {
        stdout += s;
      },
      stderr: (s: string) => {
        stderr += s;
      },
    },
    out: () => ({ stdout, stderr }),
  };
}

/** A private null device (mknod as root), else /dev/null itself. */
function nullDevice(): string {
  const node = join(dir, 'null');
  try {
    execFileSync('mknod', [node, 'c', '1', '3'], { stdio: 'ignore' });
    return node;
  } catch {
    return '/dev/null';
  }
}
const NULL = nullDevice();

describe('regular files and new paths: atomic', () => {
  it('a new path is created whole, nothing else left in the folder', async () => {
    const target = join(dir, 'new.json');
    const { io } = capture();
    const plan = planOutputs([{ flag: '--json', path: target }], [], io);
    await plan.write('--json', '{"a":1}\n');
    expect(readFileSync(target, 'utf8')).toBe('{"a":1}\n');
    expect(temporaries()).toEqual([]);
  });

  it('an existing file is replaced and keeps its permission bits', async () => {
    const target = join(dir, 'mode.json');
    writeFileSync(target, 'old');
    chmodSync(target, 0o640);
    const plan = planOutputs([{ flag: '--json', path: target }], [], capture().io);
    await plan.write('--json', 'new');
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(statSync(target).mode & 0o777).toBe(0o640);
  });

  it('chunks are written as they come, not joined first', async () => {
    const target = join(dir, 'streamed.txt');
    const plan = planOutputs([{ flag: '--mmiotrace', path: target }], [], capture().io);
    const seenOnDisk: number[] = [];
    function* chunks(): Generator<string> {
      for (let i = 0; i < 40; i++) {
        // What is on disk already: the temporary file grows while we are still producing.
        const tmp = temporaries()[0];
        seenOnDisk.push(tmp ? statSync(join(dir, tmp)).size : 0);
        yield `${String(i).padStart(3, '0')}${'x'.repeat(256 * 1024)}\n`;
      }
    }
    await plan.write('--mmiotrace', chunks());
    expect(statSync(target).size).toBe(40 * (3 + 256 * 1024 + 1));
    expect(seenOnDisk.at(-1)).toBeGreaterThan(5 << 20);
  });

  it('a producer that fails removes the temporary file and keeps the old file', async () => {
    const target = join(dir, 'keep.json');
    writeFileSync(target, 'old');
    const plan = planOutputs([{ flag: '--trace', path: target }], [], capture().io);
    function* chunks(): Generator<string> {
      yield 'x'.repeat(3 << 20);
      throw new Error('the producer failed');
    }
    await expect(plan.write('--trace', chunks())).rejects.toThrow('the producer failed');
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(temporaries()).toEqual([]);
  });
});

describe('symlinks: the target is written, the link stays', () => {
  it('a link to a regular file', async () => {
    const real = join(dir, 'real.json');
    const link = join(dir, 'link.json');
    writeFileSync(real, 'old');
    symlinkSync('real.json', link);
    const plan = planOutputs([{ flag: '--json', path: link }], [], capture().io);
    await plan.write('--json', 'through the link');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('through the link');
    // writeFileAtomic follows it the same way.
    writeFileAtomic(link, 'again');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('again');
  });

  it('a dangling link creates its target', async () => {
    mkdirSync(join(dir, 'sub'));
    const link = join(dir, 'dangling.json');
    symlinkSync('sub/created.json', link);
    const plan = planOutputs([{ flag: '--json', path: link }], [], capture().io);
    await plan.write('--json', 'created');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'sub', 'created.json'), 'utf8')).toBe('created');
  });

  it("a dangling link with '..' in a symlinked folder: created where the kernel would", async () => {
    mkdirSync(join(dir, 'deep', 'inner'), { recursive: true });
    symlinkSync(join(dir, 'deep', 'inner'), join(dir, 'inner-link'));
    symlinkSync('../up.json', join(dir, 'deep', 'inner', 'out.json'));
    const plan = planOutputs(
      [{ flag: '--json', path: join(dir, 'inner-link', 'out.json') }],
      [],
      capture().io,
    );
    await plan.write('--json', 'up');
    expect(readFileSync(join(dir, 'deep', 'up.json'), 'utf8')).toBe('up');
  });

  it('a link loop is one line', () => {
    symlinkSync('loop-b', join(dir, 'loop-a'));
    symlinkSync('loop-a', join(dir, 'loop-b'));
    expect(() => planOutputs([{ flag: '--json', path: join(dir, 'loop-a') }], [], capture().io)).toThrow(
      /^--json: cannot write '.*loop-a': too many levels of symbolic links$/,
    );
  });

  it.skipIf(!isRoot)(
    'a link someone else owns in a sticky world-writable folder is not followed (protected_symlinks)',
    () => {
      const shared = join(dir, 'shared');
      mkdirSync(shared);
      chmodSync(shared, 0o1777);
      const precious = join(dir, 'precious');
      writeFileSync(precious, 'keep');
      const link = join(shared, 'out.json');
      symlinkSync(precious, link);
      execFileSync('chown', ['-h', '12345:12345', link]);
      expect(() => planOutputs([{ flag: '--json', path: link }], [], capture().io)).toThrow(
        /refusing to follow symlink '.*out\.json' owned by uid 12345/,
      );
      expect(() => writeFileAtomic(link, 'x')).toThrow(UsageError);
      expect(readFileSync(precious, 'utf8')).toBe('keep');
    },
  );
});

describe('devices, FIFOs and sockets: written directly, never replaced', () => {
  it('a character device stays a character device (plan and writeFileAtomic)', async () => {
    const plan = planOutputs(
      [
        { flag: '--json', path: NULL },
        { flag: '--trace', path: NULL }, // sharing a character device is harmless
      ],
      [],
      capture().io,
    );
    await plan.write('--json', 'x'.repeat(3 << 20));
    await plan.write('--trace', 'y');
    writeFileAtomic(NULL, 'z');
    const st = lstatSync(NULL);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(statSync('/dev/null').rdev);
    expect(temporaries()).toEqual([]);
  });

  it('a FIFO is written to its reader, and stays a FIFO', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const received = join(dir, 'fifo-received');
    const reader = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', fifo, received]);
    const done = new Promise((ok) => reader.on('exit', ok));
    const content = 'line\n'.repeat(200_000); // more than a pipe holds: the writer waits for the reader
    const plan = planOutputs([{ flag: '--mmiotrace', path: fifo }], [], capture().io);
    await plan.write('--mmiotrace', [content, 'end\n']);
    await done;
    expect(readFileSync(received, 'utf8')).toBe(`${content}end\n`);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a FIFO whose reader comes later is waited for, with a note', async () => {
    const fifo = join(dir, 'fifo-late');
    execFileSync('mkfifo', [fifo]);
    const received = join(dir, 'fifo-late-received');
    const { io, out } = capture();
    const plan = planOutputs([{ flag: '--json', path: fifo }], [], io);
    const writing = plan.write('--json', 'late\n');
    await new Promise((ok) => setTimeout(ok, 200));
    const reader = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', fifo, received]);
    await writing;
    await new Promise((ok) => reader.on('exit', ok));
    expect(readFileSync(received, 'utf8')).toBe('late\n');
    expect(out().stderr).toContain(`waiting for a reader of the FIFO '${fifo}'`);
  });

  it('a listening socket is connected to and written', async () => {
    const path = join(dir, 'sock');
    let received = '';
    const server = createServer((c) => c.on('data', (d) => (received += d)));
    await new Promise<void>((ok) => server.listen(path, ok));
    const closed = new Promise<void>((ok) => server.on('connection', (c) => c.on('end', ok)));
    const plan = planOutputs([{ flag: '--json', path }], [], capture().io);
    await plan.write('--json', 'over the socket\n');
    await closed;
    expect(received).toBe('over the socket\n');
    expect(lstatSync(path).isSocket()).toBe(true);
    server.close();
  });

  it.skipIf(!isRoot)('a block device is refused', () => {
    const node = join(dir, 'block');
    try {
      execFileSync('mknod', [node, 'b', '7', '200'], { stdio: 'ignore' });
    } catch {
      return;
    }
    expect(() => planOutputs([{ flag: '--json', path: node }], [], capture().io)).toThrow(
      /cannot write '.*block': it is a block device/,
    );
    expect(() => writeFileAtomic(node, 'x')).toThrow(/it is a block device/);
  });
});

describe('an output that is an input, or two outputs on one place: refused before the run', () => {
  const fw = join(dir, 'fw-input');
  writeFileSync(fw, 'microcode');

  it.each([
    ['the same path', () => fw],
    [
      'a symlink to it',
      () => {
        symlinkSync(fw, join(dir, 'fw-link'));
        return join(dir, 'fw-link');
      },
    ],
    [
      'a hard link to it',
      () => {
        linkSync(fw, join(dir, 'fw-hard'));
        return join(dir, 'fw-hard');
      },
    ],
  ])('an output on the firmware file: %s', (_label, path) => {
    const out = path();
    expect(() =>
      planOutputs([{ flag: '--json', path: out }], [{ what: 'firmware file', path: fw }], capture().io),
    ).toThrow(
      `--json '${out}' is an input of this run (the firmware file '${fw}'); refusing to overwrite it`,
    );
    expect(readFileSync(fw, 'utf8')).toBe('microcode');
  });

  it('a file in the firmware folder', () => {
    const folder = join(dir, 'fw-folder');
    mkdirSync(folder);
    writeFileSync(join(folder, '06-ad-01'), 'microcode');
    expect(() =>
      planOutputs(
        [{ flag: '--trace', path: join(folder, '06-ad-01') }],
        [{ what: 'firmware folder', path: folder }],
        capture().io,
      ),
    ).toThrow(/--trace '.*06-ad-01' is a file in an input of this run \(the firmware folder '.*fw-folder'\)/);
    // A new file there is not an input.
    expect(() =>
      planOutputs([{ flag: '--trace', path: join(folder, 'new.json') }], [folder], capture().io),
    ).not.toThrow();
  });

  it('a machine file', () => {
    const machine = join(dir, 'machine.json');
    writeFileSync(machine, '{}');
    expect(() =>
      planOutputs(
        [{ flag: '--report', path: machine }],
        [{ what: 'machine file', path: machine }],
        capture().io,
      ),
    ).toThrow(/--report '.*machine\.json' is an input of this run \(the machine file '.*machine\.json'\)/);
    expect(() => planOutputs([{ flag: '--json', path: machine }], [machine], capture().io)).toThrow(
      `--json '${machine}' is an input of this run ('${machine}'); refusing to overwrite it`,
    );
  });

  it('two outputs on one path, one through a link, two on stdout', () => {
    const a = join(dir, 'same.json');
    expect(() =>
      planOutputs(
        [
          { flag: '--json', path: a },
          { flag: '--trace', path: a },
        ],
        [],
        capture().io,
      ),
    ).toThrow(`--json and --trace both write '${a}'`);
    writeFileSync(a, '');
    symlinkSync(a, join(dir, 'same-link.json'));
    expect(() =>
      planOutputs(
        [
          { flag: '--json', path: a },
          { flag: '--report', path: join(dir, 'same-link.json') },
        ],
        [],
        capture().io,
      ),
    ).toThrow(/--json and --report both write/);
    expect(() =>
      planOutputs(
        [
          { flag: '--json', path: '-' },
          { flag: '--trace', path: '-' },
        ],
        [],
        capture().io,
      ),
    ).toThrow('--json and --trace both write standard output');
  });
});

describe("'-' and outputs not given", () => {
  /** --json on standard output, and `other` not given. */
  const jsonToStdout = (other: string) => {
    const { io, out } = capture();
    const plan = planOutputs(
      [
        { flag: '--json', path: '-' },
        { flag: other, path: undefined },
      ],
      [],
      io,
    );
    return { plan, out };
  };

  it("'-' writes standard output, chunk by chunk", async () => {
    const { plan, out } = jsonToStdout('--trace');
    expect(plan.usesStdout).toBe(true);
    expect(plan.toStdout('--json')).toBe(true);
    expect(plan.has('--trace')).toBe(false);
    await plan.write('--json', ['{', '"a":', '1}\n']);
    await plan.write('--trace', 'not written: not given');
    expect(out().stdout).toBe('{"a":1}\n');
    await expect(plan.write('--bogus', 'x')).rejects.toThrow('output --bogus was not planned');
  });

  it('content given as a function is made only for an output that was asked for', async () => {
    const { plan, out } = jsonToStdout('--report');
    let made = 0;
    await plan.write('--report', () => {
      made++;
      return '<html>';
    });
    expect(made).toBe(0);
    await plan.write('--json', () => {
      made++;
      return '{}\n';
    });
    expect(made).toBe(1);
    expect(out().stdout).toBe('{}\n');
  });
});

describe('paths that cannot be written: refused by planOutputs, before the run', () => {
  it('a folder that does not exist', () => {
    const target = join(dir, 'missing', 'out.json');
    expect(() => planOutputs([{ flag: '--json', path: target }], [], capture().io)).toThrow(
      `--json: cannot write '${target}': folder '${join(dir, 'missing')}' does not exist`,
    );
  });

  it('a path that is a folder', () => {
    expect(() => planOutputs([{ flag: '--json', path: dir }], [], capture().io)).toThrow(
      `--json: cannot write '${dir}': it is a folder`,
    );
  });

  it("a path ending in '/' that is no folder: not quietly a file", () => {
    const target = join(dir, 'no-such-folder/');
    expect(() => planOutputs([{ flag: '--json', path: target }], [], capture().io)).toThrow(
      `--json: cannot write '${target}': it names a folder, and no such folder exists`,
    );
  });

  it('a path under a file', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(() => planOutputs([{ flag: '--json', path: join(file, 'x') }], [], capture().io)).toThrow(
      /cannot write '.*a-file\/x': '.*a-file' is not a folder/,
    );
  });

  it.skipIf(!existsSync('/proc/version'))('an existing file that cannot be replaced says why (/proc)', () => {
    expect(() => planOutputs([{ flag: '--json', path: '/proc/version' }], [], capture().io)).toThrow(
      /^--json: cannot write '\/proc\/version': a temporary file to replace it cannot be created in '\/proc' \(.+\)$/,
    );
  });

  it('a folder that cannot be written (/sys as root, a 0555 folder otherwise)', () => {
    let folder = '/sys';
    if (!isRoot) {
      folder = join(dir, 'read-only');
      mkdirSync(folder);
      chmodSync(folder, 0o555);
    }
    const started = performance.now();
    expect(() => planOutputs([{ flag: '--json', path: join(folder, 'out.json') }], [], capture().io)).toThrow(
      /^--json: cannot write '.*out\.json': (permission denied|read-only file system)$/,
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(resolveOutputTarget(join(folder, 'out.json')).kind).toBe('new');
  });
});

describe('estimate', () => {
  it('says so on stderr only for large outputs', () => {
    const { io, out } = capture();
    const plan = planOutputs([{ flag: '--mmiotrace', path: join(dir, 'huge.txt') }], [], io);
    plan.estimate('--mmiotrace', 1000);
    expect(out().stderr).toBe('');
    plan.estimate('--mmiotrace', 5.1e9);
    expect(out().stderr).toMatch(
      /^ucode-staging: writing about 5\.1 GB to '.*huge\.txt'( \(only .* free there\))?\n$/,
    );
    plan.estimate('--json', LARGE_OUTPUT_BYTES * 2); // not given: nothing
    expect(out().stderr.split('\n')).toHaveLength(2);
  });
});
