// The in-process CLI helpers live in test/support/run-cli.ts; reliability tests import them from here.
export { type CliRun as Captured, captureIo } from '../support/run-cli.js';
