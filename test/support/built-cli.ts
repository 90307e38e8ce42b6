import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The built binary, as a user runs it. `npm test` builds it first (pretest). */
export const CLI_MAIN = resolve('dist/cli/main.cjs');

export function requireBuiltCli(): void {
  if (!existsSync(CLI_MAIN))
    throw new Error('dist/cli/main.cjs is missing: run `npm run build` (npm test does it first)');
}

export function runBuiltCli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  return spawnSync(process.execPath, [CLI_MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    input: opts.input,
    maxBuffer: 256 * 1024 * 1024,
  });
}
