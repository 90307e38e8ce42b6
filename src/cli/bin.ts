#!/usr/bin/env node
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Cli, loadCli } from './load-cli.js';

// The `ucode-staging` command (package.json "bin"), built as CommonJS (dist/cli/main.cjs), like
// all it loads: Node's ES module loader and the internal modules it brings were 10-30 ms of
// every start. A command that runs the model starts from the CLI's code-cached script
// (load-cli.ts); every other one (--version, help, inspect, a mistyped name) from the chunks
// of light.cjs, a chunk per command, which load less than the cache.
const MODEL_COMMANDS = new Set(['simulate', 'compare', 'campaign', 'probe', 'fleet']);

const argv = process.argv.slice(2);
const cli: Cli = MODEL_COMMANDS.has(argv[0] ?? '')
  ? loadCli(__dirname)
  : (createRequire(__filename)(join(__dirname, 'light.cjs')) as Cli);
void cli.main(argv).then((code) => {
  process.exitCode = code;
});
