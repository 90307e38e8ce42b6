import { type CliIo, printable } from './io.js';

/** The bar that is drawn now, if any: an error message first clears its line. */
let drawn: Progress | undefined;

/** Columns of the line the bar is drawn on: the terminal's, at most 100, one spare for the cursor. */
function lineWidth(io: CliIo): number {
  return Math.max(20, Math.min(100, io.columns ?? 80) - 1);
}

/** Seconds as a short duration: "42s", "3m05s", "1h02m". */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * A one-line progress bar on stderr with the time left, redrawn in place; it
 * fits the terminal's width, so it never wraps and scrolls. Silent unless
 * stderr is a terminal.
 */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly io: CliIo,
    private readonly total: number,
    private readonly label: string,
  ) {}

  tick(detail = ''): void {
    this.advance(1, detail);
  }

  /** `steps` more done at once (progress reported in batches, e.g. by worker threads). */
  advance(steps: number, detail = ''): void {
    this.done += steps;
    if (!this.io.isTTY || this.total < 2) return;
    const now = Date.now();
    if (now - this.lastDraw < 50 && this.done < this.total) return;
    this.lastDraw = now;
    const done = Math.min(this.done, this.total);
    const elapsed = (now - this.started) / 1000;
    // The rate is only worth an estimate after a moment and a few steps.
    const eta =
      elapsed > 1 && done > 0 ? ` ${shortDuration((elapsed * (this.total - done)) / done)} left` : '';
    const columns = lineWidth(this.io);
    // Counts and the time left come first; the bar takes what room is left, up to 24 columns.
    const head = `${this.label} ${done}/${this.total}${eta}`;
    const barWidth = Math.min(24, columns - head.length - 3);
    const filled = Math.round((done / this.total) * barWidth);
    const bar = barWidth >= 6 ? ` [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]` : '';
    // Labels and details may hold user text (paths, sweep values): no control characters on a terminal.
    const line = printable(`${head}${bar} ${detail}`).trimEnd();
    drawn = this;
    this.io.stderr(`\r${line.slice(0, columns).padEnd(columns)}`);
  }

  finish(): void {
    if (drawn === this) drawn = undefined;
    if (this.io.isTTY && this.total >= 2) this.io.stderr(`\r${' '.repeat(lineWidth(this.io))}\r`);
  }
}

/** Clear a progress bar left on the terminal (before an error message is printed). */
export function clearProgress(): void {
  drawn?.finish();
}
