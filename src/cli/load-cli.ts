import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
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

const SCRIPT = fileURLToPath(new URL('./cli.cjs', import.meta.url));
const CACHE = fileURLToPath(new URL('./cli.cache', import.meta.url));
const requireCli = createRequire(SCRIPT);
let cacheUsed = false;

/** Whether the last loadCli() ran the CLI from its code cache (V8 accepted it). */
export function codeCacheUsed(): boolean {
  return cacheUsed;
}

function compile(cachedData: Buffer | undefined): { script: Script; cli: Cli } {
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(SCRIPT, 'utf8')}\n})`;
  const script = new Script(source, { filename: SCRIPT, ...(cachedData ? { cachedData } : {}) });
  cacheUsed = cachedData !== undefined && script.cachedDataRejected === false;
  const module = { exports: {} as Cli };
  script.runInThisContext()(module.exports, requireCli, module, SCRIPT, dirname(SCRIPT));
  return { script, cli: module.exports };
}

/** The CLI, compiled with its code cache when there is one. */
export function loadCli(): Cli {
  let cache: Buffer | undefined;
  try {
    cache = readFileSync(CACHE);
  } catch {
    return requireCli(SCRIPT) as Cli;
  }
  return compile(cache).cli;
}

/**
 * `npm run build` only: compile the CLI, let `run` use it (the functions it runs are
 * compiled then, and go into the cache too) and write cli.cache beside cli.cjs.
 */
export async function writeCodeCache(run: (cli: Cli) => Promise<void>): Promise<void> {
  const compiled = compile(undefined);
  await run(compiled.cli);
  writeFileSync(CACHE, compiled.script.createCachedData());
}
