import { compareOnce, type FileStore, runOnce, type WorkerAnswer, type WorkerRequest } from './engine.js';

// The playground's Web Worker: runs simulate() (or compare()) off the page's thread.
// Requests that arrive while one runs are not queued: only the newest is run next.

interface WorkerScope {
  postMessage(message: WorkerAnswer): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<WorkerRequest>) => void): void;
}

const scope = self as unknown as WorkerScope;
const files: FileStore = new Map();
let next: WorkerRequest | undefined;
let scheduled = false;

function work(): void {
  scheduled = false;
  const req = next;
  next = undefined;
  if (req === undefined || req.type === 'firmware') return;
  if (req.type === 'compare') {
    scope.postMessage(compareOnce(req, files));
    return;
  }
  let lastPost = 0;
  const answer = runOnce(req, files, (done, planned) => {
    // Many staging passes (interleaved numbering): say how far the run is, a few times a second.
    const now = performance.now();
    if (planned >= 8 && (now - lastPost > 200 || done === planned)) {
      lastPost = now;
      scope.postMessage({ type: 'progress', id: req.id, done, planned });
    }
  });
  scope.postMessage(answer);
}

scope.addEventListener('message', (ev) => {
  const req = ev.data;
  if (req.type === 'firmware') {
    files.set(req.name, req.bytes);
    return;
  }
  next = req;
  if (!scheduled) {
    scheduled = true;
    setTimeout(work, 0);
  }
});
