import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

// The CLI is one CommonJS script, cli.cjs (src/cli/main.ts and everything it loads, bundled
// by `npm run build`), run with the V8 code cache the build made for it, cli.cache: Node 20
// has no compile cache for modules, and compiling the CLI was about a quarter of a default
// run. V8 checks the cache against the script, its own version and its flags, and compiles
// from source when it does not fit (another Node, --cpu-prof). Without a cache the script
// is simply required. The bundle has no import(): the build turns each into a require().

export interface Cli {
  main(argv: string[]): Promise<number>;
}

// Both files sit in the folder the caller names: the bin (a CommonJS bundle, which has no
// import.meta) and the build's cache run load this module from different bundles.
let cacheUsed = false;

/** Whether the last loadCli() ran the CLI from its code cache (V8 accepted it). */
export function codeCacheUsed(): boolean {
  return cacheUsed;
}

function compile(dir: string, cachedData: Buffer | undefined): { script: Script; cli: Cli } {
  const file = join(dir, 'cli.cjs');
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const script = new Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
  cacheUsed = cachedData !== undefined && script.cachedDataRejected === false;
  const module = { exports: {} as Cli };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
  return { script, cli: module.exports };
}

/** The CLI in `dir` (cli.cjs), compiled with its code cache (cli.cache) when there is one. */
export function loadCli(dir: string): Cli {
  let cache: Buffer | undefined;
  try {
    cache = readFileSync(join(dir, 'cli.cache'));
  } catch {
    return createRequire(join(dir, 'cli.cjs'))(join(dir, 'cli.cjs')) as Cli;
  }
  return compile(dir, cache).cli;
}

/**
 * `npm run build` only: compile the CLI, let `run` use it (the functions it runs are
 * compiled then, and go into the cache too) and write cli.cache beside cli.cjs.
 */
export async function writeCodeCache(dir: string, run: (cli: Cli) => Promise<void>): Promise<void> {
  const compiled = compile(dir, undefined);
  await run(compiled.cli);
  writeFileSync(join(dir, 'cli.cache'), compiled.script.createCachedData());
}
