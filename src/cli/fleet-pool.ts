import type { Worker } from 'node:worker_threads';
import { type FleetJob, runFleetJob } from '../index.js';
import { workerThreads } from './builtins.js';
import type { JobReply, JobRequest } from './fleet-worker.js';

/** Fewer model jobs than this run in this thread: starting workers would cost more than it saves. */
export const WORKERS_FROM_JOBS = 4;
/** Jobs sent to a worker before it answers. */
const IN_FLIGHT = 2;

/**
 * The model jobs of a fleet run, on worker threads while the inputs are still being read. Jobs
 * are handed out one at a time as workers free up (shapes differ a lot in cost: an 8-socket
 * machine stages eight packages). With one thread, or fewer than WORKERS_FROM_JOBS jobs in
 * all, they run in this thread. Results come back in any order; the planner's report does not
 * depend on it.
 */
export class JobPool {
  private readonly queue: JobRequest[] = [];
  private readonly workers: { worker: Worker; inFlight: number }[] = [];
  private failure: unknown = null;
  private running = 0;
  private wake: (() => void) | null = null;

  constructor(
    private readonly threads: number,
    private readonly onReply: (reply: JobReply) => void,
  ) {}

  push(key: string, job: FleetJob): void {
    this.queue.push({ key, job });
    if (this.threads > 1 && this.workers.length === 0 && this.queue.length >= WORKERS_FROM_JOBS) this.start();
    this.dispatch();
  }

  private start(): void {
    for (let i = 0; i < this.threads; i++) {
      const worker = new (workerThreads().Worker)(new URL('./fleet-worker.js', import.meta.url));
      const slot = { worker, inFlight: 0 };
      worker.on('message', (reply: JobReply) => {
        slot.inFlight--;
        this.running--;
        try {
          this.onReply(reply);
        } catch (err) {
          this.fail(err);
          return;
        }
        this.dispatch();
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`a fleet worker exited with status ${code}`));
      });
      this.workers.push(slot);
    }
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private dispatch(): void {
    // Two jobs each: a worker has its next job at hand while this thread is busy reading.
    for (let round = 0; round < IN_FLIGHT; round++) {
      for (const slot of this.workers) {
        if (slot.inFlight > round) continue;
        const item = this.queue.shift();
        if (!item) break;
        slot.inFlight++;
        this.running++;
        slot.worker.postMessage(item);
      }
    }
    if (this.queue.length === 0 && this.running === 0) this.signal();
  }

  /** Stop: the queue is dropped and the workers end. */
  async abort(): Promise<void> {
    this.queue.length = 0;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  /** Every job pushed, done: on the workers, or here when there were too few for them. */
  async drain(onInline?: () => void): Promise<void> {
    try {
      if (this.workers.length === 0) {
        for (const item of this.queue.splice(0)) {
          let reply: JobReply;
          try {
            reply = { type: 'done', key: item.key, summary: runFleetJob(item.job) };
          } catch (err) {
            const e = err instanceof Error ? err : new Error(String(err));
            reply = { type: 'error', key: item.key, name: e.name, message: e.message };
          }
          this.onReply(reply);
          onInline?.();
        }
        return;
      }
      while (this.failure === null && (this.queue.length > 0 || this.running > 0)) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.dispatch();
        });
      }
      if (this.failure !== null) throw this.failure;
    } finally {
      await Promise.all(this.workers.map((w) => w.worker.terminate()));
    }
  }
}
