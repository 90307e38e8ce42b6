import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildMicrocode,
  concatBlobs,
  flipDword,
  type InspectReport,
  truncate,
} from '../../src/format/index.js';
import { fromJson } from '../../src/sim/json.js';
import { firmwareDir, firmwareSkipReason } from '../format/fixtures.js';
import { hasIucodeTool, iucodeDate, iucodeToolListing, type ListedBlob } from '../format/iucode-tool.js';
import { requireBuiltCli } from '../support/built-cli.js';
import { type CliRun, runCliInProcess } from '../support/run-cli.js';

type Run = CliRun;

/** In process: fast, and the same dispatcher (exit codes, usage line) as the binary. */
function inspect(...args: string[]): Promise<Run> {
  return runCliInProcess(['inspect', ...args]);
}

async function inspectJson(...args: string[]): Promise<InspectReport> {
  const run = await inspect(...args, '--json');
  return fromJson(run.stdout) as InspectReport;
}

const expectUsageError = (run: Run, text: string) => {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr).toContain(text);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
};

const ad = buildMicrocode({
  signature: 0xa06d1,
  processorFlags: 0x95,
  revision: 0x10003a2,
  date: '2024-09-11',
  dataSize: 4096,
  minRequiredRevision: 0x10002b0,
});
const ad2 = buildMicrocode({
  signature: 0xa06d1,
  processorFlags: 0x20,
  revision: 0xa000124,
  date: '2025-08-29',
  dataSize: 1024,
});
const withExt = buildMicrocode({
  signature: 0x806f8,
  processorFlags: 0x87,
  revision: 0x2b000650,
  dataSize: 512,
  extendedSignatures: [
    { signature: 0x806f8, processorFlags: 0x87 },
    { signature: 0x806f5, processorFlags: 0x87 },
  ],
});

let dir = '';
let goodDir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ucode-inspect-'));
  goodDir = join(dir, 'good');
  mkdirSync(goodDir);
  writeFileSync(join(goodDir, '06-ad-01'), concatBlobs(ad, ad2));
  writeFileSync(join(goodDir, '06-8f-08'), withExt);
  mkdirSync(join(goodDir, 'subfolder'));
  writeFileSync(join(dir, 'corrupt'), concatBlobs(ad, flipDword(ad2, 100)));
  writeFileSync(join(dir, 'trailing'), concatBlobs(ad, truncate(ad2, 40)));
  writeFileSync(join(dir, 'empty'), new Uint8Array(0));
  symlinkSync(join(goodDir, '06-8f-08'), join(dir, 'link-to-8f'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('inspect: listing', () => {
  it('lists every blob of a folder, sorted by file name, with a summary', async () => {
    const run = await inspect(goodDir);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^FILE\s+#\s+OFFSET\s+SIGNATURE\s+FMS\s+PF\s+REVISION\s+MIN-REV\s+DATE\s+SIZE\s+EXT\s+CHECK$/,
    );
    expect(lines[1]).toMatch(
      /^06-8f-08\s+0\s+0\s+0x000806f8\s+06-8f-08\s+0x87\s+0x2b000650\s+-\s+2025-01-01\s+604\s+2\s+ok$/,
    );
    expect(lines[2]).toMatch(
      /^06-ad-01\s+0\s+0\s+0x000a06d1\s+06-ad-01\s+0x95\s+0x10003a2\s+0x10002b0\s+2024-09-11\s+4144\s+0\s+ok$/,
    );
    expect(lines[3]).toMatch(
      /^06-ad-01\s+1\s+4144\s+0x000a06d1\s+06-ad-01\s+0x20\s+0xa000124\s+-\s+2025-08-29\s+1072\s+0\s+ok$/,
    );
    expect(lines[4]).toBe('2 files, 3 valid blobs, 0 invalid');
    // Aligned: every row starts its CHECK column at the same place.
    expect(new Set(lines.slice(0, 4).map((l) => l.lastIndexOf('  ') + 2)).size).toBe(1);
  });

  it('--json follows the documented schema', async () => {
    const report = await inspectJson(join(goodDir, '06-ad-01'), join(goodDir, '06-8f-08'));
    expect(report.schema).toBe('ucode-staging/inspect@2');
    // On the wire revisions, signatures and masks are hex strings (fromJson reads them back).
    const raw = JSON.parse((await inspect(join(goodDir, '06-ad-01'), '--json')).stdout);
    expect(raw.files[0].blobs[0]).toMatchObject({
      signature: '0xa06d1',
      platformFlags: '0x95',
      revision: '0x10003a2',
    });
    expect(report.match).toBeNull();
    expect(report.summary).toEqual({ files: 2, validBlobs: 3, listedBlobs: 3, invalidFiles: 0 });
    const [adFile, extFile] = report.files;
    expect(adFile).toMatchObject({
      path: join(goodDir, '06-ad-01'),
      size: ad.length + ad2.length,
      validBlobs: 2,
      error: null,
    });
    expect(adFile.blobs[0]).toEqual({
      index: 0,
      offset: 0,
      signature: 0xa06d1,
      family: 6,
      model: 0xad,
      stepping: 1,
      fms: '06-ad-01',
      platformFlags: 0x95,
      revision: 0x10003a2,
      date: '2024-09-11',
      dateRaw: 0x09112024,
      dataSize: 4096,
      totalSize: 4144,
      metadataSize: 0,
      minRequiredRevision: 0x10002b0,
      extendedSignatures: [],
      valid: true,
    });
    expect(extFile.blobs[0].extendedSignatures).toEqual([
      {
        signature: 0x806f8,
        processorFlags: 0x87,
        fms: '06-8f-08',
      },
      {
        signature: 0x806f5,
        processorFlags: 0x87,
        fms: '06-8f-05',
      },
    ]);
  });

  it('follows symlinks, skips subfolders, and shows an empty file without failing', async () => {
    const report = await inspectJson(dir);
    expect(report.files.map((f) => f.path.slice(dir.length + 1))).toEqual([
      'corrupt',
      'empty',
      'link-to-8f',
      'trailing',
    ]);
    const run = await inspect(join(dir, 'empty'));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^empty\s+-\s+-.*empty file: no microcode$/m);
  });

  it('uses relative paths when two files share a base name', async () => {
    const other = join(dir, 'again');
    mkdirSync(other);
    writeFileSync(join(other, '06-8f-08'), withExt);
    const run = await inspect(join(goodDir, '06-8f-08'), join(other, '06-8f-08'));
    expect(run.stdout).toContain('good/06-8f-08');
    expect(run.stdout).toContain('again/06-8f-08');
  });
});

describe('inspect: invalid files', () => {
  it('exits 1 and shows the failing blob, its offset and the kernel message', async () => {
    const run = await inspect(join(dir, 'corrupt'));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^corrupt\s+0\s+0\s.*\sok$/m);
    expect(run.stdout).toMatch(
      new RegExp(
        `^corrupt\\s+1\\s+${ad.length}\\s.*rejected at offset ${ad.length}: Bad microcode data checksum, aborting\\.$`,
        'm',
      ),
    );
    expect(run.stdout).toContain('1 file, 1 valid blob, 1 invalid');
  });

  it('reports a trailing fragment with no readable header', async () => {
    const run = await inspect(join(dir, 'trailing'));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `rejected at offset ${ad.length}: error! Truncated or inaccessible header in microcode data file`,
    );
  });

  it('--json gives the error and lists the failing blob as not valid', async () => {
    const report = await inspectJson(join(dir, 'corrupt'), join(dir, 'trailing'));
    const [corrupt, trailing] = report.files;
    expect(corrupt.error).toEqual({
      offset: ad.length,
      index: 1,
      kind: 'data-checksum',
      message: 'Bad microcode data checksum, aborting.',
    });
    expect(corrupt.blobs.map((b) => b.valid)).toEqual([true, false]);
    expect(corrupt.blobs[1].revision).toBe(0xa000124);
    expect(trailing.error?.kind).toBe('truncated-header');
    expect(trailing.blobs.map((b) => b.valid)).toEqual([true]);
    expect(report.summary.invalidFiles).toBe(2);
  });
});

describe('inspect: --match', () => {
  it('keeps blobs whose main or extended signature matches the CPU', async () => {
    const bySig = await inspectJson(goodDir, '--match', '0x806f5');
    expect(bySig.files.flatMap((f) => f.blobs.map((b) => b.revision))).toEqual([0x2b000650]);
    expect(bySig.match).toEqual({ signature: 0x806f5, platformId: null, platformFlags: null });
  });

  it('applies the platform id like the kernel (1 << id must intersect the mask)', async () => {
    const pf5 = await inspectJson(goodDir, '--match', 'a06d1,5');
    expect(pf5.files.flatMap((f) => f.blobs.map((b) => b.revision))).toEqual([0xa000124]);
    expect(pf5.match?.platformFlags).toBe(0x20);
    const pf1 = await inspectJson(goodDir, '--match', 'A06D1,1');
    expect(pf1.files.flatMap((f) => f.blobs.map((b) => b.revision))).toEqual([]);
    expect(pf1.summary).toMatchObject({ validBlobs: 3, listedBlobs: 0 });
    const table = await inspect(goodDir, '--match', '0xa06d1,7');
    expect(table.stdout.trimEnd().split('\n').at(-1)).toBe(
      '2 files, 3 valid blobs (1 matching 0xa06d1,7), 0 invalid',
    );
  });

  it('still shows invalid files', async () => {
    const run = await inspect(join(dir, 'corrupt'), '--match', '0x1');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Bad microcode data checksum');
  });
});

describe('inspect: usage errors', () => {
  it('prints help', async () => {
    const run = await inspect('--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('usage: ucode-staging inspect <file|dir>...');
  });

  it('refuses a missing path argument', async () => {
    expectUsageError(await inspect(), 'ucode-staging inspect: missing <file|dir>');
    expectUsageError(await inspect('--json'), 'missing <file|dir>');
  });

  it.each(['zz', '0xa06d1,8', '0xa06d1,', '123456789', '0xa06d1,1,2', ''])(
    'refuses --match %j',
    async (value) => {
      expectUsageError(await inspect(goodDir, '--match', value), `bad --match '${value}'`);
    },
  );

  it('refuses paths it cannot read', async () => {
    expectUsageError(
      await inspect(join(dir, 'nope')),
      `cannot access '${join(dir, 'nope')}': no such file or directory`,
    );
    expectUsageError(await inspect(join(dir, 'empty', 'x')), 'not a directory');
    expectUsageError(await inspect('/dev/null'), 'neither a regular file nor a folder');
  });

  it('refuses unknown options', async () => {
    expectUsageError(await inspect(goodDir, '--frobnicate'), "unknown option '--frobnicate'");
  });
});

describe('inspect: the built binary', () => {
  const main = resolve('dist/cli/main.cjs');

  beforeAll(requireBuiltCli);

  const node = (...args: string[]) =>
    spawnSync(process.execPath, [main, 'inspect', ...args], { encoding: 'utf8' });

  it('exits 0, 1 and 2 as documented', () => {
    expect(node(goodDir).status).toBe(0);
    const bad = node(join(dir, 'corrupt'));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain(`rejected at offset ${ad.length}: Bad microcode data checksum, aborting.`);
    const usage = node(goodDir, '--match', 'nonsense');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^ucode-staging inspect: bad --match 'nonsense': [^\n]*\n$/);
    const missing = node(join(dir, 'missing'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^ucode-staging inspect: cannot access [^\n]*\n$/);
  });

  it('--json output parses', () => {
    const run = node(goodDir, '--json');
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as InspectReport).summary.validBlobs).toBe(3);
  });
});

const realTitle = firmwareDir ? `inspect on real microcode in ${firmwareDir}` : firmwareSkipReason;

describe.skipIf(!firmwareDir)(realTitle, () => {
  it('validates the whole folder', async () => {
    const run = await inspect(firmwareDir!);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ 0 invalid\n$/);
  });

  it.skipIf(!hasIucodeTool)(
    'gives the same signatures, masks, revisions, dates and sizes as iucode_tool -L (skipped without iucode_tool)',
    async () => {
      const report = await inspectJson(firmwareDir!);
      const listing = iucodeToolListing(report.files.map((f) => f.path));
      for (const file of report.files) {
        const ours: ListedBlob[] = file.blobs.map((b) => ({
          sig: b.signature,
          pf: b.platformFlags,
          date: iucodeDate(b.dateRaw),
          rev: b.revision,
          size: b.totalSize,
          extended: b.extendedSignatures.map((e) => ({ sig: e.signature, pf: e.processorFlags })),
        }));
        expect(ours, file.path).toEqual(listing.get(file.path));
      }
    },
  );
});
