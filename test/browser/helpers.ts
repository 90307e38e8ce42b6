import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM } from '../support/chromium.js';

/**
 * Headless Chromium as test/support/chromium.ts starts it, plus `extraArgs` (e.g.
 * --allow-file-access-from-files, which a file:// page needs to load ES modules).
 */
export function launchChromiumWith(extraArgs: readonly string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[(s.length - 1) >> 1]!;
}
