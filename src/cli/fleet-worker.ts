import { parentPort } from 'node:worker_threads';
import { type FleetJob, runFleetJob } from '../index.js';

// One fleet worker thread: runs the model jobs it is sent (each a distinct host shape) and
// posts each summary back. Errors the model reports for its input come back by name, so the
// main thread skips those hosts as it would in-process.

export interface JobRequest {
  key: string;
  job: FleetJob;
}

export type JobReply =
  | { type: 'done'; key: string; summary: ReturnType<typeof runFleetJob> }
  | { type: 'error'; key: string; name: string; message: string };

const port = parentPort;
port?.on('message', (req: JobRequest) => {
  try {
    port.postMessage({ type: 'done', key: req.key, summary: runFleetJob(req.job) } satisfies JobReply);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    port.postMessage({ type: 'error', key: req.key, name: e.name, message: e.message } satisfies JobReply);
  }
});
