import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanFile } from '../../src/format/index.js';
import { firmwareDir } from './fixtures.js';

// Intel's microcode files are never committed. The replay hosts (test/fixtures/hosts) and
// the fleet inventory carry files named FF-MM-SS because the kernel looks them up by that
// name; each is a small image made by the project's builder (test/fixtures/*/generate.mjs).

const FMS = /^[0-9a-f]{2}-[0-9a-f]{2}-[0-9a-f]{2}$/;

function* fmsFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) yield* fmsFiles(p);
    else if (FMS.test(e)) yield p;
  }
}

const files = [...fmsFiles('test/fixtures')];

describe('microcode files under test/fixtures', () => {
  it('are small synthetic images, valid for the kernel', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f));
      // Intel's server blobs are 0.2-1.7 MB each; these are a few KB.
      expect(bytes.length, f).toBeLessThanOrEqual(64 * 1024);
      const scan = scanFile(bytes);
      expect(scan.error, f).toBeUndefined();
      for (const blob of scan.blobs) expect(blob.header.date, f).toBe(0x07232025);
    }
  });

  it.skipIf(!firmwareDir)('share no blob with Intel files (UCODE_FIRMWARE_DIR)', () => {
    const real = new Set<string>();
    for (const name of readdirSync(firmwareDir!)) {
      for (const blob of scanFile(new Uint8Array(readFileSync(join(firmwareDir!, name)))).blobs)
        real.add(`${blob.header.signature}:${blob.header.revision}:${blob.header.checksum}`);
    }
    for (const f of files) {
      for (const blob of scanFile(new Uint8Array(readFileSync(f))).blobs)
        expect(real.has(`${blob.header.signature}:${blob.header.revision}:${blob.header.checksum}`), f).toBe(
          false,
        );
    }
  });
});
