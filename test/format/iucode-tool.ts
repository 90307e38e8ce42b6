import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { decodeBcdDate } from '../../src/format/index.js';

/** The Debian package iucode-tool; tests comparing against it skip without it. */
export const hasIucodeTool = spawnSync('iucode_tool', ['--version']).status === 0;

/** What `iucode_tool -L` prints for one blob: its main line, then one line per extended entry. */
export interface ListedBlob {
  sig: number;
  pf: number;
  date: string;
  rev: number;
  size: number;
  extended: { sig: number; pf: number }[];
}

export function iucodeToolListing(paths: string[]): Map<string, ListedBlob[]> {
  const run = spawnSync('iucode_tool', ['-L', ...paths], { encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(run.status).toBe(0);
  const byPath = new Map<string, ListedBlob[]>();
  let current: ListedBlob[] = [];
  for (const line of run.stdout.split('\n')) {
    const bundle = /^microcode bundle \d+: (.+)$/.exec(line);
    const main =
      /^\s+\d+\/\d+: sig (0x[0-9a-f]+), pf_mask (0x[0-9a-f]+), (\S+), rev (0x[0-9a-f]+), size (\d+)$/.exec(
        line,
      );
    const ext = /^\s+sig (0x[0-9a-f]+), pf_mask (0x[0-9a-f]+), \S+, rev 0x[0-9a-f]+$/.exec(line);
    if (bundle) {
      current = [];
      byPath.set(bundle[1], current);
    } else if (main) {
      const [, sig, pf, date, rev, size] = main;
      current.push({
        sig: Number(sig),
        pf: Number(pf),
        date,
        rev: Number(rev),
        size: Number(size),
        extended: [],
      });
    } else if (ext) {
      current[current.length - 1].extended.push({ sig: Number(ext[1]), pf: Number(ext[2]) });
    }
  }
  return byPath;
}

/** iucode_tool prints the BCD date digits as they are, valid or not. */
export function iucodeDate(dword: number): string {
  const digits = dword.toString(16).padStart(8, '0');
  return decodeBcdDate(dword) ?? `${digits.slice(4)}-${digits.slice(0, 2)}-${digits.slice(2, 4)}`;
}
