import { createRequire } from 'node:module';

// Node modules that only some commands use, loaded when first used. The model commands run
// as one CommonJS script (cli.cjs) whose bundler requires every statically imported Node
// module at start: worker threads, zlib, http and child processes (with the streams and
// sockets they bring) cost every `simulate` a few milliseconds for the campaign, fleet,
// probe and playground commands that use them.
const load = createRequire(import.meta.url);

export const workerThreads = (): typeof import('node:worker_threads') => load('node:worker_threads');
export const zlib = (): typeof import('node:zlib') => load('node:zlib');
export const http = (): typeof import('node:http') => load('node:http');
export const childProcess = (): typeof import('node:child_process') => load('node:child_process');
