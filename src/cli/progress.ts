import type { CliIo } from './io.js';

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
    this.done++;
    if (!this.io.isTTY || this.total < 2) return;
    const now = Date.now();
    if (now - this.lastDraw < 50 && this.done < this.total) return;
    this.lastDraw = now;
    const width = 24;
    const filled = Math.round((this.done / this.total) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    this.io.stderr(`\r${this.label} [${bar}] ${this.done}/${this.total} ${detail}`.slice(0, 100).padEnd(100));
  }

  finish(): void {
    if (this.io.isTTY && this.total >= 2) this.io.stderr(`\r${' '.repeat(100)}\r`);
  }
}
