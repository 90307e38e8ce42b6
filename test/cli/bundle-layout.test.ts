import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST, requireDist } from './built.js';

// What a light command of the built CLI (light.cjs and its chunks) loads: --version and inspect never load the
// simulator (the mailbox device) or zod, and a run through pipes loads neither node:tty
// nor node:crypto nor node:net (each costs milliseconds of every start-up).

beforeAll(requireDist);

const CLI = join(DIST, 'cli');

/** The files `start` requires when it loads, and when `command`'s chunk is required lazily. */
function closure(start: string, command?: string): string[] {
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(join(CLI, file), 'utf8');
    // A lazy chunk is required inside a promise callback; every other require runs on load.
    for (const m of text.matchAll(/(?<!then\(\(\)=>)require\("\.\/([^"]+)"\)/g)) queue.push(m[1]!);
    if (command) {
      const lazy = new RegExp(
        `${command}:async\\(\\)=>\\(await Promise\\.resolve\\(\\)\\.then\\(\\(\\)=>require\\("\\./([^"]+)"\\)`,
      ).exec(text);
      if (lazy) queue.push(lazy[1]!);
    }
  }
  return [...seen];
}

const holds = (files: string[], marker: string) =>
  files.some((f) => readFileSync(join(CLI, f), 'utf8').includes(marker));

describe('the built CLI loads only what a command uses', () => {
  it('--version and inspect load neither the simulator nor zod; simulate loads both', () => {
    const version = closure('light.cjs');
    const inspect = closure('light.cjs', 'inspect');
    const simulate = closure('light.cjs', 'simulate');
    expect(inspect.length).toBeGreaterThan(version.length);
    for (const files of [version, inspect]) {
      expect(holds(files, 'MailboxDevice')).toBe(false);
      expect(holds(files, '$ZodType')).toBe(false);
    }
    expect(holds(simulate, 'MailboxDevice')).toBe(true);
    expect(holds(simulate, '$ZodType')).toBe(true);
  });

  it('through pipes, --version loads neither node:tty nor node:crypto nor node:net', () => {
    const probe = join(tmpdir(), `ucode-modules-${process.pid}.cjs`);
    writeFileSync(
      probe,
      "process.on('exit', () => require('node:fs').writeSync(2, JSON.stringify(process.moduleLoadList)));\n",
    );
    const r = spawnSync(process.execPath, ['-r', probe, join(CLI, 'main.cjs'), '--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.stdout).toMatch(/^ucode-staging /);
    const loaded = JSON.parse(r.stderr) as string[];
    expect(loaded).toContain('NativeModule fs');
    for (const m of ['NativeModule tty', 'NativeModule crypto', 'NativeModule net'])
      expect(loaded).not.toContain(m);
  });
});
