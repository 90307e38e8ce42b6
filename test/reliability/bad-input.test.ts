import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { buildMicrocode } from '../../src/format/index.js';
import { BUILT_MAIN, requireDist } from '../cli/built.js';
import { captureIo } from './helpers.js';

// Every input a user gives: machine files and command-line options. Bad input
// gets one line that names the field or option, and exit 2; never a stack.

const dir = mkdtempSync(join(tmpdir(), 'ucode-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const { io, out } = captureIo({ UCODE_STAGING_FIRMWARE_DIR: join(dir, 'no-firmware') });
  const code = await runCli(args, io);
  return { code, ...out() };
}

function machineFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Machine files and the text the one-line error must contain (the field, or what is wrong). */
const MACHINE_FILES: [string, string, RegExp][] = [
  ['unknown key', '{"extends":"up","bogus":1}', /machine field 'bogus': unknown field/],
  [
    'unknown key in a package',
    '{"extends":"up","packageConfig":[{"bogus":true}]}',
    /machine field 'packageConfig\.0\.bogus': unknown field/,
  ],
  [
    'unknown cost key',
    '{"extends":"up","cost":{"mmioWritNs":100}}',
    /machine field 'cost\.mmioWritNs': unknown field/,
  ],
  [
    'wrong type',
    '{"extends":"up","packages":"two"}',
    /machine field 'packages': Invalid input: expected number, received string/,
  ],
  ['0 packages', '{"extends":"up","packages":0}', /machine field 'packages': Too small/],
  [
    '100,000 cores per package',
    '{"extends":"up","coresPerPackage":100000}',
    /machine field 'coresPerPackage': Too big/,
  ],
  [
    'too many CPUs in all',
    '{"extends":"up","packages":64,"coresPerPackage":1024,"threadsPerCore":4}',
    /machine field 'coresPerPackage': 262144 CPUs in all/,
  ],
  ['3 threads per core', '{"extends":"up","threadsPerCore":3}', /machine field 'threadsPerCore'/],
  [
    'negative cost',
    '{"extends":"up","cost":{"mmioWriteNs":-5}}',
    /machine field 'cost\.mmioWriteNs': Too small/,
  ],
  [
    'negative CPU fault delay',
    '{"extends":"up","cpuFaults":[{"cpu":0,"kind":"late-arrival","delayNs":-1}]}',
    /machine field 'cpuFaults\.0\.delayNs'/,
  ],
  [
    'unknown fault kind',
    '{"extends":"up","packageConfig":[{"faults":[{"kind":"bogus"}]}]}',
    /machine field 'packageConfig\.0\.faults\.0\.kind': Invalid option/,
  ],
  [
    'fault at and with probability',
    '{"extends":"up","packageConfig":[{"faults":[{"kind":"never-ready","atTransaction":1,"probability":0.5}]}]}',
    /machine field 'packageConfig\.0\.faults\.0': give atTransaction or probability, not both/,
  ],
  [
    'cache of 0 chunks',
    '{"extends":"up","packageConfig":[{"profile":{"kind":"limited-cache","cacheChunks":0}}]}',
    /machine field 'packageConfig\.0\.profile\.cacheChunks'/,
  ],
  [
    'more package configs than packages',
    '{"extends":"up","packageConfig":[{},{}]}',
    /machine field 'packageConfig': 2 entries for 1 packages/,
  ],
  [
    'an offline CPU that does not exist',
    '{"extends":"up","offlineCpus":[999]}',
    /machine field 'offlineCpus\.0': CPU 999 does not exist/,
  ],
  ['a missing field', '{"packages":1}', /machine field 'name'/],
  [
    'a half-given staging object',
    '{"extends":"up","staging":{"archCapMcuEnum":true}}',
    /machine field 'staging\.mcuStaging'/,
  ],
  ['extends no preset', '{"extends":"nope"}', /"extends" must name a preset/],
  ['an array', '[1,2]', /must hold an object/],
  ['not JSON', '{nope', /is not valid JSON/],
];

describe('machine files: one line naming the field, exit 2', () => {
  for (const [label, content, message] of MACHINE_FILES) {
    it(label, async () => {
      const path = machineFile(`${label.replace(/\W+/g, '-')}.json`, content);
      const r = await cli('simulate', '-m', path, '--image-size', '16K', '-q');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^ucode-staging simulate: [^\n]+\n$/);
      expect(r.stderr).toMatch(message);
    });
  }

  it('a YAML file that does not parse', async () => {
    const path = machineFile('bad.yaml', 'packages: [1\n');
    const r = await cli('simulate', '-m', path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^ucode-staging simulate: machine file '.*bad\.yaml' is not valid JSON\/YAML: [^\n]+\n$/,
    );
  });

  it('a machine file that does not exist', async () => {
    const r = await cli('simulate', '-m', join(dir, 'missing.json'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read machine file '.*missing\.json'/);
  });
});

/** Command lines and the text the one-line error must contain. */
const OPTIONS: [string[], RegExp][] = [
  [['simulate', '--bogus'], /unknown option '--bogus'/],
  [['simulate', '--seed', 'abc'], /--seed expects a whole number, got 'abc'/],
  [['simulate', '--seed', '99999999999'], /--seed must be within 0\.\.4294967295/],
  [['simulate', '--image-size', '10'], /--image-size must be within 52 bytes\.\.256M/],
  [['simulate', '--image-size', '1G'], /--image-size expects a size like/],
  [['simulate', '--staging', 'maybe'], /--staging must be one of auto, off, require/],
  [['simulate', '--fault', 'bogus'], /bad --fault 'bogus'/],
  [['simulate', '-m', 'up', '--fault', '5=never-ready'], /package 5 does not exist \(the machine has 1\)/],
  [['simulate', '--profile', 'bogus'], /unknown device profile 'bogus'/],
  [
    ['simulate', '--profile', 'slow:chunkNs=-5'],
    /--profile slow: chunkNs expects a plain non-negative number, got '-5'/,
  ],
  [['simulate', '-m', 'up', '--cost', 'mmioWriteNs=-5'], /machine field 'cost\.mmioWriteNs': Too small/],
  [['simulate', '-m', 'up', '--cost', 'bogus=5'], /--cost: unknown cost parameter 'bogus' \(mmioWriteNs, /],
  [['simulate', '-m', 'up', '--offline', '5'], /bad --offline range '5': CPU 5 does not exist \(1 CPUs\)/],
  [['simulate', '-m', 'up', '--hz', '7'], /--hz must be one of 100, 250, 300, 1000, got '7'/],
  [['simulate', '-m', 'nope'], /unknown machine preset 'nope' \(known: /],
  [['campaign', '--runs', '0'], /--runs must be within 1\.\.100000000, got 0/],
  [['campaign', '--runs', '1e3'], /--runs expects a whole number, got '1e3'/],
  [['campaign', '--seed', '-5'], /--seed expects a whole number, got '-5'/],
  [['campaign', '--faults', 'bogus'], /--faults must be one of none, error-status, .*, got 'bogus'/],
  [['campaign', '--machines', 'bogus'], /--machines: unknown machine 'bogus'/],
  [['campaign', '--hz', '7'], /--hz must be one of 100, 250, 300, 1000, got '7'/],
  [['campaign', '--image-size', '64K-8K'], /--image-size: the range 64K-8K is empty/],
  [['campaign', '--probabilities', '2'], /--probabilities expects a number within 0\.\.1/],
  [['campaign', '--probabilities', '1e-3'], /--probabilities expects a number within 0\.\.1/],
  [['campaign', '--cpu-fault-rate', '-0.5'], /argument is ambiguous|--cpu-fault-rate expects/],
  [['campaign', '--threads', '3'], /--threads must be one of 1, 2, 4, got '3'/],
  [['campaign', '--max-cores', '0'], /--max-cores must be within 1\.\.1024/],
  [['campaign', '--policies', 'maybe'], /--policies must be one of auto, off, require, got 'maybe'/],
  [['campaign', '--profiles', 'bogus'], /--profiles: unknown profile 'bogus'/],
  [
    ['campaign', '--profiles', 'slow:chunkNs=x'],
    /--profiles slow: chunkNs expects a plain non-negative number, got 'x'/,
  ],
  [
    ['campaign', '--probabilities', '0.0000001'],
    /--probabilities: 0\.0000001 is too small to replay as a plain decimal/,
  ],
  [
    ['campaign', '--profiles', 'slow:chunkNs=1e21'],
    /--profiles slow: chunkNs expects a plain non-negative number, got '1e21'/,
  ],
  [['campaign', '--placements', 'sometimes'], /--placements must be one of at, probability, got 'sometimes'/],
  [['campaign', '--faults', 'none,,never-ready'], /--faults expects a comma-separated list/],
  [['campaign', '--bogus'], /unknown option '--bogus'/],
];

describe('command-line options: one line naming the option, exit 2', () => {
  for (const [args, message] of OPTIONS) {
    it(args.join(' '), async () => {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      if (args[0] === 'campaign') expect(r.stderr).toMatch(/^ucode-staging campaign: [^\n]+\n$/);
    });
  }
});

describe('bad input through the built binary', () => {
  beforeAll(requireDist);

  it('a machine file with an unknown key', () => {
    const path = machineFile('binary-unknown.json', '{"extends":"up","bogus":1}');
    const r = runBuilt(['simulate', '-m', path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`ucode-staging simulate: machine field 'bogus': unknown field\n`);
  });

  it('a machine file with 100,000 CPUs per package', () => {
    const path = machineFile('binary-huge.json', '{"extends":"up","coresPerPackage":100000}');
    const r = runBuilt(['simulate', '-m', path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "ucode-staging simulate: machine field 'coresPerPackage': Too big: expected number to be <=1024\n",
    );
  });

  it('a campaign option out of range', () => {
    const r = runBuilt(['campaign', '--hz', '7']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("ucode-staging campaign: --hz must be one of 100, 250, 300, 1000, got '7'\n");
  });
});

/** The built binary (dist/, or UCODE_STAGING_DIST), as a user runs it. */
function runBuilt(args: string[]) {
  return spawnSync(process.execPath, [BUILT_MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** The call must end within a second: nothing was waited on or read without bound. */
async function quick<T>(call: () => Promise<T> | T): Promise<T> {
  const started = performance.now();
  const result = await call();
  expect(performance.now() - started).toBeLessThan(2000);
  return result;
}

describe('inputs that are not regular files, or too large: refused at once, by name, exit 2', () => {
  // The 'up' preset's CPU (signature 0xa06d1) loads intel-ucode/06-ad-01.
  const folder = join(dir, 'intel-ucode');
  const cpuFile = join(folder, '06-ad-01');
  const listening = createServer();

  beforeAll(async () => {
    mkdirSync(folder);
    await new Promise<void>((ok) => listening.listen(join(dir, 'a-socket'), ok));
  });
  afterAll(() => listening.close());

  const simulateWith = (fw: string) => cli('simulate', '-m', 'up', '-f', fw, '-q');

  it('a FIFO as the CPU file in a firmware folder (no writer: it would block forever)', async () => {
    execFileSync('mkfifo', [cpuFile]);
    const r = await quick(() => simulateWith(folder));
    rmSync(cpuFile);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `ucode-staging simulate: cannot read firmware file '${cpuFile}': it is a FIFO (named pipe), not a regular file\n`,
    );
  });

  it('a symlink to /dev/zero as the CPU file (it would never end)', async () => {
    execFileSync('ln', ['-s', '/dev/zero', cpuFile]);
    const r = await quick(() => simulateWith(folder));
    rmSync(cpuFile);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /cannot read firmware file '.*06-ad-01': it is a character device, not a regular file\n$/,
    );
  });

  it('a firmware file over 64 MiB (sparse, so nothing is read)', async () => {
    writeFileSync(cpuFile, '');
    truncateSync(cpuFile, 65 << 20);
    const r = await quick(() => simulateWith(folder));
    rmSync(cpuFile);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'.*06-ad-01': it is 65\.0 MiB \(68157440 bytes\), over the 64\.0 MiB limit/);
  });

  it('inspect: FIFOs, sockets and devices named on the command line', async () => {
    const fifo = join(dir, 'inspect-fifo');
    execFileSync('mkfifo', [fifo]);
    for (const [path, kind] of [
      [fifo, 'a FIFO (named pipe)'],
      [join(dir, 'a-socket'), 'a socket'],
      ['/dev/urandom', 'a character device'],
    ]) {
      const r = await quick(() => cli('inspect', path!));
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `ucode-staging inspect: '${path}' is ${kind}, neither a regular file nor a folder\n`,
      );
    }
  });

  it('inspect: in a folder, they are skipped with a note and the regular files listed', async () => {
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(
      join(mixed, '06-ad-01'),
      buildMicrocode({ signature: 0xa06d1, processorFlags: 1, revision: 2 }),
    );
    execFileSync('mkfifo', [join(mixed, 'fifo')]);
    execFileSync('ln', ['-s', '/dev/zero', join(mixed, 'zero')]);
    execFileSync('ln', ['-s', 'nowhere', join(mixed, 'broken')]);
    const r = await quick(() => cli('inspect', mixed));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 file, 1 valid blob, 0 invalid');
    expect(r.stderr).toBe(
      [
        `ucode-staging inspect: skipping '${join(mixed, 'broken')}': no such file or directory`,
        `ucode-staging inspect: skipping '${join(mixed, 'fifo')}': it is a FIFO (named pipe)`,
        `ucode-staging inspect: skipping '${join(mixed, 'zero')}': it is a character device`,
        '',
      ].join('\n'),
    );
  });

  it('inspect: a file over 64 MiB', async () => {
    const big = join(dir, 'big-microcode');
    writeFileSync(big, '');
    truncateSync(big, 100 << 20);
    const r = await quick(() => cli('inspect', big));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^ucode-staging inspect: cannot read microcode file '.*big-microcode': it is 100\.0 MiB/,
    );
  });

  it('the built binary: a FIFO firmware file ends at once with one line', () => {
    requireDist();
    execFileSync('mkfifo', [cpuFile]);
    const started = performance.now();
    const r = spawnSync(process.execPath, [BUILT_MAIN, 'simulate', '-m', 'up', '-f', folder], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    rmSync(cpuFile);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^ucode-staging simulate: cannot read firmware file '[^\n]*': it is a FIFO[^\n]*\n$/,
    );
  });
});
