import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeReport } from '../../src/index.js';
import { type CliRun, runCliInProcess } from '../support/run-cli.js';

export const HOSTS_DIR = fileURLToPath(new URL('../fixtures/hosts/', import.meta.url));

export function hostRoot(name: string): string {
  return join(HOSTS_DIR, name);
}

export type ProbeRun = CliRun;

/** `ucode-staging probe ARGS` in process, through the same dispatcher as the binary. */
export function probeCli(...args: string[]): Promise<ProbeRun> {
  return runCliInProcess(['probe', ...args]);
}

/** The JSON report of a replayed fixture host, and the exit status. */
export async function probeFixture(
  name: string,
  ...args: string[]
): Promise<{ code: number; report: ProbeReport }> {
  const run = await probeCli('--root', hostRoot(name), '--json', ...args);
  if (run.code === 2) throw new Error(`probe could not run on ${name}: ${run.stderr}`);
  return { code: run.code, report: JSON.parse(run.stdout) as ProbeReport };
}
