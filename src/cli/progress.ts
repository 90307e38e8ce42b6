import { type CliIo, printable } from './io.js';

const WIDTH = 100;

/** The bar that is drawn now, if any: an error message first clears its line. */
let drawn: Progress | undefined;

/** A one-line progress bar on stderr; silent unless stderr is a terminal. */
export class Progress {
  private done = 0;
  private lastDraw = 0;

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
    const width = 24;
    const filled = Math.round((Math.min(this.done, this.total) / this.total) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    // Labels and details may hold user text (paths, sweep values): no control characters on a terminal.
    const line = printable(`${this.label} [${bar}] ${this.done}/${this.total} ${detail}`);
    drawn = this;
    this.io.stderr(`\r${line.slice(0, WIDTH).padEnd(WIDTH)}`);
  }

  finish(): void {
    if (drawn === this) drawn = undefined;
    if (this.io.isTTY && this.total >= 2) this.io.stderr(`\r${' '.repeat(WIDTH)}\r`);
  }
}

/** Clear a progress bar left on the terminal (before an error message is printed). */
export function clearProgress(): void {
  drawn?.finish();
}
