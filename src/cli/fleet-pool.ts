import { Worker } from 'node:worker_threads';
import type { FleetJob } from '../index.js';
import type { JobReply, JobRequest } from './fleet-worker.js';

/**
 * Run model jobs on `threads` worker threads, handing out one job at a time as workers free up
 * (shapes differ a lot in cost: an 8-socket machine stages eight packages). Results come back
 * in any order; the planner's report does not depend on it.
 */
export async function runJobsOnWorkers(
  jobs: readonly { key: string; job: FleetJob }[],
  threads: number,
  onReply: (reply: JobReply) => void,
): Promise<void> {
  // Costly shapes first, so that a big one does not start last and leave the other workers idle.
  const queue = [...jobs].sort((a, b) => cost(b.job) - cost(a.job));
  const workers = Array.from(
    { length: Math.min(threads, queue.length) },
    () => new Worker(new URL('./fleet-worker.js', import.meta.url)),
  );
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = (): void => {
              const item = queue[next++];
              if (!item) {
                resolve();
                return;
              }
              worker.postMessage({ key: item.key, job: item.job } satisfies JobRequest);
            };
            worker.on('message', (reply: JobReply) => {
              try {
                onReply(reply);
              } catch (err) {
                reject(err);
                return;
              }
              send();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (code !== 0) reject(new Error(`a fleet worker exited with status ${code}`));
            });
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** A rough cost: staged bytes (packages x image) and CPUs. */
function cost(job: FleetJob): number {
  const m = job.kind === 'tree' ? job.derived.machine : job.machine;
  const packages = typeof m.packages === 'number' ? m.packages : 1;
  const cpus =
    packages *
    (typeof m.coresPerPackage === 'number' ? m.coresPerPackage : 1) *
    (typeof m.threadsPerCore === 'number' ? m.threadsPerCore : 1);
  const bytes =
    job.kind === 'tree'
      ? job.firmware.length
      : job.image.kind === 'file'
        ? job.image.bytes.length
        : 1_670_144;
  return packages * bytes + cpus * 2000;
}
