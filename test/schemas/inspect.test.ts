import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { format } from '../../src/index.js';
import { InspectJson } from '../../src/schemas/index.js';
import { cli, expectValid } from './support.js';

// `inspect --json` of good and corrupt files (made with the project's builder) against inspect@2.

const dir = mkdtempSync(join(tmpdir(), 'ucode-schemas-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const gnr = (o: Partial<format.BuildMicrocodeOptions> = {}) =>
  format.buildMicrocode({ signature: 0xa06d1, revision: 0x10003f0, processorFlags: 0x95, ...o });

const GOOD: Record<string, Uint8Array> = {
  '06-ad-01': format.concatBlobs(
    gnr({ minRequiredRevision: 0x1000390, metadataSize: 128 }),
    gnr({
      revision: 0x10004a2,
      extendedSignatures: [
        { signature: 0xa06f3, processorFlags: 0x1 },
        { signature: 0x806f8, processorFlags: 0x87 },
      ],
    }),
  ),
  'legacy-odd-date': gnr({ legacyZeroDataSize: true, date: 0x13452025 }),
};

const withExt = gnr({ extendedSignatures: [{ signature: 0xa06f3, processorFlags: 1 }] });
/** The first extended entry's checksum: after 2000 data bytes and the 20-byte table header. */
const EXT_ENTRY_CHECKSUM = 48 + 2000 + 20 + 8;

const CORRUPT: Record<string, Uint8Array> = {
  'data-checksum': format.concatBlobs(gnr(), format.flipDword(gnr({ revision: 0x10004a2 }), 200)),
  'bad-header-version': format.withHeaderField(gnr(), 'headerVersion', 2, { fixChecksum: true }),
  'truncated-header': format.truncate(gnr(), 20),
  'truncated-file': format.concatBlobs(gnr(), format.truncate(gnr({ revision: 0x10004a2 }), 1000)),
  'ext-table-checksum': format.flipDword(withExt, EXT_ENTRY_CHECKSUM),
  'ext-signature-checksum': format.fixExtTableChecksum(format.flipDword(withExt, EXT_ENTRY_CHECKSUM)),
};

function write(folder: string, files: Record<string, Uint8Array>): string {
  const path = join(dir, folder);
  mkdirSync(path);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(path, name), bytes);
  return path;
}

const good = write('good', GOOD);
const corrupt = write('corrupt', CORRUPT);

interface InspectDoc {
  files: { error: { kind: string } | null; blobs: { valid: boolean; date: string | null }[] }[];
  match: unknown;
}

describe('inspect@2: real listings validate', () => {
  it('good files: several blobs, extended signatures, a legacy size and a date that is not BCD', async () => {
    const run = await cli('inspect', '--json', good);
    expect(run.code, run.stderr).toBe(0);
    const doc = expectValid(InspectJson, run.stdout, 'good') as InspectDoc;
    expect(doc.files.flatMap((f) => f.blobs)).toHaveLength(3);
    expect(doc.files.some((f) => f.blobs.some((b) => b.date === null))).toBe(true);
  });

  it('corrupt files: each rejection with its failing blob', async () => {
    const run = await cli('inspect', '--json', corrupt);
    expect(run.code).toBe(1);
    const doc = expectValid(InspectJson, run.stdout, 'corrupt') as InspectDoc;
    expect(doc.files.map((f) => f.error?.kind).sort()).toEqual(Object.keys(CORRUPT).sort());
    expect(doc.files.some((f) => f.blobs.some((b) => !b.valid))).toBe(true);
  });

  it('--match with and without a platform id, good and corrupt together', async () => {
    for (const match of ['0xa06f3', 'a06d1,4']) {
      const run = await cli('inspect', '--json', '--match', match, good, corrupt);
      const doc = expectValid(InspectJson, run.stdout, match) as InspectDoc;
      expect(doc.match).not.toBeNull();
    }
  });
});
