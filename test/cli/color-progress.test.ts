import { afterEach, describe, expect, it, vi } from 'vitest';
import { paint, takeColorOption } from '../../src/cli/color.js';
import type { CliIo } from '../../src/cli/io.js';
import { Progress, shortDuration } from '../../src/cli/progress.js';
import { runBuiltCli } from '../support/built-cli.js';

describe('--color and NO_COLOR', () => {
  it('auto colours a terminal unless NO_COLOR is set; always and never override', () => {
    expect(takeColorOption(['simulate'], {}, true)).toEqual({ argv: ['simulate'], color: true });
    expect(takeColorOption(['simulate'], { NO_COLOR: '1' }, true).color).toBe(false);
    expect(takeColorOption(['simulate'], {}, false).color).toBe(false);
    expect(takeColorOption(['simulate', '--color=always'], {}, false)).toEqual({
      argv: ['simulate'],
      color: true,
    });
    expect(takeColorOption(['--color=never', 'simulate'], {}, true).color).toBe(false);
    expect(takeColorOption(['inspect', '--', '--color=always'], {}, false)).toEqual({
      argv: ['inspect', '--', '--color=always'],
      color: false,
    });
    expect(() => takeColorOption(['--color=sometimes'], {}, true)).toThrow(
      /--color must be one of auto, always, never/,
    );
  });

  it('colours the lines that tell what went wrong, and nothing without colour', () => {
    const text =
      '[  1.0] microcode: Error: staging failed (-110) for CPU0 at package 0.\ntaint       none\noutcome     updated, reload returned 0';
    expect(paint(text, false)).toBe(text);
    const lines = paint(text, true).split('\n');
    const ESC = '\u001b';
    expect(lines[0]!.startsWith(`${ESC}[31m`) && lines[0]!.endsWith(`${ESC}[39m`)).toBe(true);
    expect(lines[0]).toContain('staging failed');
    expect(lines[1]).toBe('taint       none');
    expect(lines[2]!.startsWith(`${ESC}[32m`)).toBe(true);
  });

  it('the built binary colours a failed load only when asked', () => {
    const args = ['simulate', '-m', 'up', '--image-size', '16K', '--fault', 'never-ready@0', '-q'];
    expect(runBuiltCli([...args, '--color=always']).stdout).toContain('\u001b[');
    expect(runBuiltCli(args).stdout).not.toContain('\u001b[');
  });
});

describe('the progress bar', () => {
  afterEach(() => vi.useRealTimers());

  it('fits the terminal width and shows the time left', () => {
    vi.useFakeTimers();
    const written: string[] = [];
    const io: CliIo = { stdout: () => {}, stderr: (t) => written.push(t), isTTY: true, columns: 40, env: {} };
    const p = new Progress(io, 100, 'campaign');
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(100);
      p.tick('a long detail that would not fit in forty columns at all');
    }
    for (const w of written) expect(w.replace('\r', '').length).toBeLessThanOrEqual(39);
    expect(written.at(-1)).toMatch(/50\/100 5s left/);
    expect(shortDuration(3725)).toBe('1h02m');
    expect(shortDuration(185)).toBe('3m05s');
  });
});
