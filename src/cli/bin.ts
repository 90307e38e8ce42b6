#!/usr/bin/env node
import * as light from './main.js';

// The `ucode-staging` command (package.json "bin"). A command that runs the model starts
// from the CLI's code-cached script (load-cli.ts): it would otherwise compile about 200 KB
// of the simulator first. Every other one (--version, help, inspect, a mistyped name) runs
// here with the few modules it needs (each command's are a chunk of their own), which costs
// less than reading the cache.
const MODEL_COMMANDS = new Set(['simulate', 'compare', 'campaign', 'probe', 'fleet']);

const argv = process.argv.slice(2);
const cli = MODEL_COMMANDS.has(argv[0] ?? '') ? (await import('./load-cli.js')).loadCli() : light;
process.exitCode = await cli.main(argv);
