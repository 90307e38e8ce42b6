import { parentPort } from 'node:worker_threads';
import { type CampaignPart, type CampaignSpace, runCampaignSlice } from '../index.js';

// One campaign worker thread: runs the slices it is sent and posts each part
// back. Parts merge into the same report whatever the split (mergeCampaignParts).

export interface SliceRequest {
  space: CampaignSpace;
  runs: number;
  seed: number;
  determinismEvery: number;
  maxFailures: number;
  start: number;
  end: number;
}

export type WorkerMessage =
  | { type: 'progress'; runs: number }
  | { type: 'part'; part: CampaignPart }
  | { type: 'error'; message: string };

/** Progress is posted in batches: a message per run would cost more than some runs. */
const PROGRESS_BATCH = 25;

const port = parentPort;
port?.on('message', (req: SliceRequest) => {
  try {
    let posted = 0;
    const part = runCampaignSlice(
      {
        ...req,
        clock: () => performance.now(),
        onProgress: (done) => {
          if (done - posted >= PROGRESS_BATCH) {
            port.postMessage({ type: 'progress', runs: done - posted } satisfies WorkerMessage);
            posted = done;
          }
        },
      },
      req.start,
      req.end,
    );
    if (req.end - req.start > posted)
      port.postMessage({ type: 'progress', runs: req.end - req.start - posted } satisfies WorkerMessage);
    port.postMessage({ type: 'part', part } satisfies WorkerMessage);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    port.postMessage({ type: 'error', message } satisfies WorkerMessage);
  }
});
