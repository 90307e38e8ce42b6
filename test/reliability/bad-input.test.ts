import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { buildMicrocode } from '../../src/format/index.js';
import { type SimulateOptions, SimulationInputError, simulate } from '../../src/index.js';
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

// The classes of bad input in docs/reliability.md's table that no other test drives from the
// command line, each with its exact line (a pattern where the line lists names others may
// extend). Every one is refused before anything runs or is written, except a full device and a
// socket nobody listens on, which fail when the output is written.

const SIM_UP = ['simulate', '-m', 'up', '--image-size', '16K', '-q'];

/** One line on stderr: `ucode-staging COMMAND: ` and then exactly `line`, or a line `line` matches. */
function expectLine(stderr: string, command: string, line: string | RegExp): void {
  const prefix = `ucode-staging ${command}: `;
  expect(
    stderr.startsWith(prefix) && stderr.endsWith('\n') && stderr.indexOf('\n') === stderr.length - 1,
    stderr,
  ).toBe(true);
  const text = stderr.slice(prefix.length, -1);
  if (typeof line === 'string') expect(text).toBe(line);
  else expect(text).toMatch(line);
}

describe('every class of bad input from the command line: the exact line, exit 2', () => {
  const p = (name: string) => join(dir, 'classes', name);
  const machine = p('machine.json');
  const firmware = p('fw.bin');

  beforeAll(() => {
    mkdirSync(join(dir, 'classes'));
    writeFileSync(machine, '{"extends":"up"}');
    writeFileSync(firmware, buildMicrocode({ signature: 0xa06d1, processorFlags: 1, revision: 2 }));
    execFileSync('mkfifo', [p('fifo')]);
    writeFileSync(p('big.json'), '');
    truncateSync(p('big.json'), (1 << 20) + 1);
    writeFileSync(p('extends-proto.json'), '{"extends":"__proto__"}');
    writeFileSync(p('constructor-key.json'), '{"extends":"up","constructor":1}');
    writeFileSync(p('proto-key.json'), '{"extends":"up","__proto__":{"packages":2}}');
    writeFileSync(p('escape-name.json'), '{"extends":"up","name":"evil\\u001b[2J"}');
    writeFileSync(p('newline-name.yaml'), 'extends: up\nname: "two\\nlines"\n');
    // A socket file nobody listens on: its server was killed before it could remove it.
    const script = `require('net').createServer().listen(${JSON.stringify(p('dead.sock'))}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
  });

  const cases: [string, () => string[], () => string | RegExp][] = [
    // outputs
    [
      'an output that is the machine file',
      () => ['simulate', '-m', machine, '--json', machine],
      () => `--json '${machine}' is an input of this run ('${machine}'); refusing to overwrite it`,
    ],
    [
      'an output that is the firmware file',
      () => ['simulate', '-m', 'up', '-f', firmware, '--trace', firmware],
      () => `--trace '${firmware}' is an input of this run ('${firmware}'); refusing to overwrite it`,
    ],
    [
      'two outputs on one file',
      () => [...SIM_UP, '--json', p('same.json'), '--trace', p('same.json')],
      () => `--json and --trace both write '${p('same.json')}'`,
    ],
    [
      "two outputs on '-'",
      () => [...SIM_UP, '--json', '-', '--trace', '-'],
      () => '--json and --trace both write standard output',
    ],
    [
      'an empty output path',
      () => [...SIM_UP, '--json', ''],
      () => "--json: cannot write '': the path is empty",
    ],
    [
      'a symlink loop as an output',
      () => {
        symlinkSync('loop-b', p('loop-a'));
        symlinkSync('loop-a', p('loop-b'));
        return [...SIM_UP, '--json', p('loop-a')];
      },
      () => `--json: cannot write '${p('loop-a')}': too many levels of symbolic links`,
    ],
    [
      'a full device as an output file (/dev/full: no space left)',
      () => [...SIM_UP, '--json', '/dev/full'],
      () => "--json: cannot write '/dev/full': no space left on device",
    ],
    // inputs that are not regular files, or too large
    [
      'a FIFO as the machine file',
      () => ['simulate', '-m', p('fifo')],
      () => `cannot read machine file '${p('fifo')}': it is a FIFO (named pipe), not a regular file`,
    ],
    [
      '/dev/zero as the machine file',
      () => ['simulate', '-m', '/dev/zero'],
      () => "cannot read machine file '/dev/zero': it is a character device, not a regular file",
    ],
    [
      '/dev/zero as the firmware file',
      () => ['simulate', '-m', 'up', '-f', '/dev/zero'],
      () => "cannot read firmware file '/dev/zero': it is a character device, not a regular file",
    ],
    [
      'a socket as the machine file',
      () => ['simulate', '-m', p('dead.sock')],
      () => `cannot read machine file '${p('dead.sock')}': it is a socket, not a regular file`,
    ],
    [
      'a machine file over 1 MiB',
      () => ['simulate', '-m', p('big.json')],
      () =>
        `cannot read machine file '${p('big.json')}': it is 1.0 MiB (1048577 bytes), over the 1.0 MiB limit for a machine file`,
    ],
    // empty values
    ['an empty --hz', () => ['simulate', '--hz', ''], () => '--hz expects a value, got an empty one'],
    ['an empty --seed', () => ['simulate', '--seed', ''], () => '--seed expects a value, got an empty one'],
    [
      'an empty --offline',
      () => ['simulate', '--offline', ''],
      () => '--offline expects a value, got an empty one',
    ],
    [
      'an empty --fault',
      () => ['simulate', '--fault', ''],
      () => '--fault expects a value, got an empty one',
    ],
    ['an empty --cost', () => ['simulate', '--cost', ''], () => '--cost expects a value, got an empty one'],
    [
      'an empty --cost value',
      () => ['simulate', '--cost', 'mmioWriteNs='],
      () => "--cost mmioWriteNs expects a number, got ''",
    ],
    ['an empty -m', () => ['simulate', '-m', ''], () => /^unknown machine preset '' \(known: [^\n]*\)$/],
    // names that exist on Object.prototype
    [
      '-m constructor',
      () => ['simulate', '-m', 'constructor'],
      () => /^unknown machine preset 'constructor' \(known: [^\n]*\)$/,
    ],
    [
      '-m __proto__',
      () => ['simulate', '-m', '__proto__'],
      () => /^unknown machine preset '__proto__' \(known: [^\n]*\)$/,
    ],
    [
      '--fault constructor',
      () => ['simulate', '--fault', 'constructor'],
      () => /^bad --fault 'constructor': expected KIND[^\n]*, KIND one of error-status, [^\n]*$/,
    ],
    [
      '--profile constructor',
      () => ['simulate', '--profile', 'constructor'],
      () => "--profile: unknown device profile 'constructor' (ideal, limited-cache, slow)",
    ],
    [
      '--cpu-fault 0=constructor',
      () => ['simulate', '--cpu-fault', '0=constructor'],
      () => /^bad --cpu-fault '0=constructor': expected CPU=KIND[^\n]*, KIND one of never-arrives, [^\n]*$/,
    ],
    [
      '--hz toString',
      () => ['simulate', '--hz', 'toString'],
      () => "--hz must be one of 100, 250, 300, 1000, got 'toString'",
    ],
    [
      'a machine file extending __proto__',
      () => ['simulate', '-m', p('extends-proto.json')],
      () =>
        new RegExp(
          `^machine file '${p('extends-proto\\.json')}': "extends" must name a preset \\(gnr-2s, [^\\n]*\\)$`,
        ),
    ],
    [
      "a machine file with a 'constructor' key",
      () => ['simulate', '-m', p('constructor-key.json')],
      () => "machine field 'constructor': unknown field",
    ],
    [
      "a machine file with a '__proto__' key",
      () => ['simulate', '-m', p('proto-key.json')],
      () => "machine field '__proto__': unknown field",
    ],
    // control characters in names
    [
      'a machine name with an ANSI escape (JSON)',
      () => ['simulate', '-m', p('escape-name.json')],
      () => "machine field 'name': control characters are not allowed",
    ],
    [
      'a machine name with a newline (YAML)',
      () => ['simulate', '-m', p('newline-name.yaml')],
      () => "machine field 'name': control characters are not allowed",
    ],
    [
      'a preset name with an ANSI escape: shown escaped',
      () => ['simulate', '-m', '\u001b[2Jx'],
      () => /^unknown machine preset '\\x1b\[2Jx' \(known: [^\n]*\)$/,
    ],
    // bad offline ranges
    [
      'an offline range that ends before it starts',
      () => ['simulate', '-m', 'gnr-2s', '--offline', '3-1'],
      () => "bad --offline range '3-1': it ends before it starts",
    ],
    [
      'an offline list that is not one',
      () => ['simulate', '-m', 'gnr-2s', '--offline', 'x'],
      () => "bad --offline 'x': expected a list like 3,5-7",
    ],
    [
      'an offline list with an empty item',
      () => ['simulate', '-m', 'gnr-2s', '--offline', '1,,2'],
      () => "bad --offline '1,,2': expected a list like 3,5-7",
    ],
    [
      'an offline range past the machine (not expanded first)',
      () => ['simulate', '-m', 'up', '--offline', '0-999999'],
      () => "bad --offline range '0-999999': CPU 999999 does not exist (1 CPUs)",
    ],
    // CPU faults
    [
      'a late arrival without its delay',
      () => ['simulate', '-m', 'up', '--cpu-fault', '0=late-arrival'],
      () => "--cpu-fault '0=late-arrival': delayNs: late-arrival needs its delay (delayNs)",
    ],
    // compare sweeps
    [
      'a sweep with no values',
      () => ['compare', '-m', 'up', '--sweep', 'image-size='],
      () => /^bad --sweep 'image-size=': expected KEY=V1,V2,\.\.\. with KEY one of image-size, [^\n]*$/,
    ],
    [
      'a sweep with an empty value',
      () => ['compare', '-m', 'up', '--sweep', 'image-size=16K,,32K'],
      () => "bad --sweep 'image-size=16K,,32K': an empty value (separate values with ',')",
    ],
    [
      'a sweep with a trailing comma',
      () => ['compare', '-m', 'up', '--sweep', 'image-size=16K,'],
      () => "bad --sweep 'image-size=16K,': an empty value (separate values with ',')",
    ],
    [
      'a sweep over constructor',
      () => ['compare', '-m', 'up', '--sweep', 'constructor=1'],
      () => /^bad --sweep 'constructor=1': expected KEY=V1,V2,\.\.\. with KEY one of image-size, [^\n]*$/,
    ],
  ];

  for (const [label, args, line] of cases) {
    it(label, async () => {
      const argv = args();
      const r = await quick(() => cli(...argv));
      expect(r.code).toBe(2);
      // A full device is found when the run writes to it: its summary came first.
      if (!label.includes('/dev/full')) expect(r.stdout).toBe('');
      expectLine(r.stderr, argv[0]!, line());
    });
  }

  it('a socket nobody listens on as an output: found when the run writes to it, one line naming it', async () => {
    const r = await quick(() => cli(...SIM_UP, '--json', p('dead.sock')));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^ucode-staging simulate: --json: cannot write '${p('dead.sock')}': [^\\n]*refused[^\\n]*\\n$`,
        'i',
      ),
    );
  });

  it('the built binary gives the same lines (one case of each class)', () => {
    requireDist();
    for (const label of [
      'an output that is the machine file',
      'a full device as an output file (/dev/full: no space left)',
      'a socket as the machine file',
      'an empty --seed',
      '-m constructor',
      'a preset name with an ANSI escape: shown escaped',
      'an offline range that ends before it starts',
      'a late arrival without its delay',
      'a sweep with an empty value',
    ]) {
      const [, args, line] = cases.find(([l]) => l === label)!;
      const argv = args();
      const r = spawnSync(process.execPath, [BUILT_MAIN, ...argv], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, UCODE_STAGING_FIRMWARE_DIR: join(dir, 'no-firmware') },
      });
      expect([label, r.status]).toEqual([label, 2]);
      expectLine(r.stderr, argv[0]!, line());
    }
  });
});

describe('library options: a SimulationInputError naming the option', () => {
  const bad: [string, SimulateOptions, string][] = [
    ['a NaN seed', { seed: Number.NaN }, "option 'seed': Invalid input: expected number, received NaN"],
    [
      'an infinite seed',
      { seed: Number.POSITIVE_INFINITY },
      "option 'seed': Invalid input: expected number, received Infinity",
    ],
    ['a seed of 2^32', { seed: 2 ** 32 }, "option 'seed': Too big: expected number to be <=4294967295"],
    [
      'a string as the seed',
      { seed: '5' as unknown as number },
      "option 'seed': Invalid input: expected number, received string",
    ],
    [
      'an ArrayBuffer as the firmware',
      { firmware: new ArrayBuffer(8) as never },
      "option 'firmware': expected a Uint8Array or a FirmwareSource ({ request(name), description })",
    ],
    [
      'a path string as the firmware',
      { firmware: '/lib/firmware' as never },
      "option 'firmware': expected a Uint8Array or a FirmwareSource ({ request(name), description })",
    ],
    [
      'a NaN image size',
      { syntheticImageBytes: Number.NaN },
      "option 'syntheticImageBytes': Invalid input: expected number, received NaN",
    ],
    [
      'an image size of 51 bytes (under a header and one dword)',
      { syntheticImageBytes: 51 },
      "option 'syntheticImageBytes': Too small: expected number to be >=52",
    ],
    [
      'an image size over 256 MiB',
      { syntheticImageBytes: 2 ** 28 + 1 },
      "option 'syntheticImageBytes': Too big: expected number to be <=268435456",
    ],
    [
      'a fractional image size',
      { syntheticImageBytes: 52.5 },
      "option 'syntheticImageBytes': Invalid input: expected int, received number",
    ],
  ];
  for (const [label, opts, message] of bad) {
    it(label, () => {
      let err: unknown;
      try {
        simulate({ machine: 'up', syntheticImageBytes: 8192, ...opts });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SimulationInputError);
      expect((err as Error).message).toBe(message);
    });
  }
});
