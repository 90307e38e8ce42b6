import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { CampaignPart } from '../index.js';
import { workerThreads } from './builtins.js';
import type { SliceRequest, WorkerMessage } from './campaign-worker.js';

const WORKER_URL = new URL('./campaign-worker.js', import.meta.url);

/**
 * Whether worker threads can be started: the worker is built JavaScript, so
 * running the CLI from its TypeScript sources (the tests) runs in process.
 */
export function workersAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_URL));
}

/**
 * Run a campaign's runs [start, end) on `jobs` worker threads. The runs are cut into many
 * slices handed out as workers free up (runs differ a lot in cost), and the
 * parts come back in any order: merging them gives the same report for any
 * number of jobs.
 */
export async function runOnWorkers(
  base: Omit<SliceRequest, 'start' | 'end'>,
  start: number,
  end: number,
  jobs: number,
  onRuns: (runs: number) => void,
): Promise<CampaignPart[]> {
  const sliceSize = Math.max(20, Math.min(2000, Math.ceil((end - start) / (jobs * 16))));
  const slices: [number, number][] = [];
  for (let s = start; s < end; s += sliceSize) slices.push([s, Math.min(end, s + sliceSize)]);
  const parts: CampaignPart[] = [];
  const workers = Array.from(
    { length: Math.min(jobs, slices.length) },
    (): Worker => new (workerThreads().Worker)(WORKER_URL),
  );
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = (): void => {
              const slice = slices[next++];
              if (!slice) {
                resolve();
                return;
              }
              worker.postMessage({ ...base, start: slice[0], end: slice[1] } satisfies SliceRequest);
            };
            worker.on('message', (m: WorkerMessage) => {
              if (m.type === 'progress') onRuns(m.runs);
              else if (m.type === 'part') {
                parts.push(m.part);
                send();
              } else reject(new Error(`a campaign worker failed: ${m.message}`));
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (code !== 0) reject(new Error(`a campaign worker exited with status ${code}`));
            });
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return parts;
}
