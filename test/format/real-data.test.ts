import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cpuPlatformFlag,
  decodeBcdDate,
  fmsFileName,
  type MicrocodeBlob,
  scanFile,
  selectForLateLoad,
  signatureMatches,
} from '../../src/format/index.js';
import { firmwareDir, firmwareSkipReason } from './fixtures.js';
import { hasIucodeTool, iucodeDate, iucodeToolListing, type ListedBlob } from './iucode-tool.js';

function firmwareFiles(dir: string): { name: string; path: string; bytes: Uint8Array }[] {
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, path: join(dir, name) }))
    .filter(({ path }) => statSync(path).isFile())
    .map((f) => ({ ...f, bytes: new Uint8Array(readFileSync(f.path)) }));
}

function asListed(blob: MicrocodeBlob): ListedBlob {
  return {
    sig: blob.header.signature,
    pf: blob.header.processorFlags,
    date: iucodeDate(blob.header.date),
    rev: blob.header.revision,
    size: blob.totalSize,
    extended: blob.extendedSignatures.map((e) => ({ sig: e.signature, pf: e.processorFlags })),
  };
}

const title = firmwareDir ? `real Intel microcode in ${firmwareDir}` : firmwareSkipReason;

describe.skipIf(!firmwareDir)(title, () => {
  const files = firmwareDir ? firmwareFiles(firmwareDir) : [];

  it('finds files to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('every file parses completely and every blob passes the kernel checks', () => {
    for (const file of files) {
      const { blobs, error } = scanFile(file.bytes);
      expect(error, file.name).toBeUndefined();
      expect(blobs.length, file.name).toBeGreaterThan(0);
      expect(
        blobs.reduce((n, b) => n + b.totalSize, 0),
        file.name,
      ).toBe(file.bytes.length);
      for (const blob of blobs) expect(decodeBcdDate(blob.header.date), file.name).toBeDefined();
    }
  });

  it('every file is named after a signature one of its blobs carries', () => {
    for (const file of files) {
      const names = scanFile(file.bytes).blobs.flatMap((b) => [
        fmsFileName(b.header.signature),
        ...b.extendedSignatures.map((e) => fmsFileName(e.signature)),
      ]);
      expect(names, file.name).toContain(file.name);
    }
  });

  it('a CPU of each blob, running revision 0, is offered the newest blob for it, unsafely', () => {
    for (const file of files) {
      const { blobs } = scanFile(file.bytes);
      for (const blob of blobs) {
        const highestPlatform = 31 - Math.clz32(blob.header.processorFlags);
        const cpu = {
          signature: blob.header.signature,
          platformFlags: blob.header.processorFlags ? cpuPlatformFlag(highestPlatform) : 0,
          revision: 0,
        };
        const newest = Math.max(
          ...blobs.filter((b) => signatureMatches(b, cpu)).map((b) => b.header.revision),
        );
        const s = selectForLateLoad(file.bytes, cpu);
        // Revision 0 is below every minimum, and blobs without a minimum are unsafe anyway.
        expect(s.outcome, file.name).toBe('new-unsafe');
        expect(s.blob?.header.revision, file.name).toBe(newest);
      }
    }
  });

  it.skipIf(!hasIucodeTool)(
    'lists the same blobs as iucode_tool -L (skipped when iucode_tool is missing)',
    () => {
      const listing = iucodeToolListing(files.map((f) => f.path));
      for (const file of files) {
        expect(scanFile(file.bytes).blobs.map(asListed), file.name).toEqual(listing.get(file.path));
      }
    },
  );
});
