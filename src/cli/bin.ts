#!/usr/bin/env node
// The `ucode-staging` command (package.json "bin"). A command that runs the model starts
// from the CLI's code-cached script (load-cli.ts): it would otherwise compile about 200 KB
// of the simulator first. Every other one (--version, help, inspect, a mistyped name) loads
// only the few modules it needs, which costs less than reading the cache.
const MODEL_COMMANDS = new Set(['simulate', 'compare', 'campaign', 'probe', 'fleet']);

const argv = process.argv.slice(2);
const cli = MODEL_COMMANDS.has(argv[0] ?? '')
  ? (await import('./load-cli.js')).loadCli()
  : await import('./main.js');
process.exitCode = await cli.main(argv);
