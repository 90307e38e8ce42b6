import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';
import type { FleetFigures, HostSummary } from '../../src/fleet/summary.js';

export const FLEET_FIXTURES = fileURLToPath(new URL('../fixtures/fleet/', import.meta.url));
export const HOST_TREES = fileURLToPath(new URL('../fixtures/hosts/', import.meta.url));

export interface FleetRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `ucode-staging fleet ARGS` in this process (model jobs in this thread: workers need the build). */
export async function fleetCli(...args: string[]): Promise<FleetRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    isTTY: false,
    env: {},
  };
  const code = await runCli(['fleet', ...args, ...(args.includes('--jobs') ? [] : ['--jobs', '1'])], io);
  return { code, stdout, stderr };
}

export function figures(stopWindowNs: number | null, more: Partial<FleetFigures> = {}): FleetFigures {
  return {
    outcome: stopWindowNs === null ? 'panic' : 'updated',
    reloadReturns: stopWindowNs === null ? 'none (the write never returns)' : '0',
    stopWindowNs,
    stagingNs: 0,
    reloadNs: (stopWindowNs ?? 0) + 1000,
    stagingPasses: 0,
    stagingOk: false,
    ...more,
  };
}

/** A host summary for analysis tests: a loading host with the given staged and unstaged runs. */
export function summary(opts: {
  kind?: HostSummary['verdict']['kind'];
  staged?: FleetFigures | null;
  unstaged?: FleetFigures;
  thisHost?: 'with-staging' | 'without-staging' | 'unknown';
  model?: string;
}): HostSummary {
  const kind = opts.kind ?? 'safe';
  const staged =
    opts.staged === undefined
      ? figures(60e6, { stagingNs: 1.6e9, reloadNs: 1.7e9, stagingOk: true })
      : opts.staged;
  return {
    verdict: { kind, summary: kind, taints: kind === 'unsafe', reloadReturns: '0' },
    vendor: 'GenuineIntel',
    model: opts.model ?? 'test',
    signature: '0xa06d1',
    revision: '0x10003a2',
    topology: {
      packages: 2,
      coresPerPackage: 4,
      threadsPerCore: 2,
      cpus: 16,
      online: 16,
      numbering: 'package-major/last',
    },
    kernel: { release: '6.19', hz: 1000, hasStaging: true },
    update: { revision: '0x10004a2', imageBytes: 1_670_144 },
    staging: { support: staged === null ? 'not-supported' : 'supported', kernelHasStaging: true },
    prediction: {
      hypothetical: null,
      thisHost: opts.thisHost ?? (staged === null ? 'without-staging' : 'with-staging'),
      withStaging: staged,
      withoutStaging: opts.unstaged ?? figures(100e6),
      assumptions: 'test',
    },
  };
}
