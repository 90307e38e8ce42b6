import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate } from '../../src/sim/simulate.js';
import { DIST, requireDist } from '../cli/built.js';
import { haveChromium, warnIfNoChromium } from '../support/chromium.js';
import { launchChromiumWith } from './helpers.js';

warnIfNoChromium('browser example test');

interface ExampleResult {
  dmesg: string;
  outcome: string;
  stopWindowNs: number | null;
  summary: string;
}

describe.skipIf(!haveChromium)('examples/browser: the one-page example, opened from disk', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    requireDist();
    if (!existsSync(join(DIST, 'browser', 'ucode-staging.js')))
      throw new Error(`${DIST}/browser/ucode-staging.js is missing: run \`npm run build\``);
    // The example as it sits in the package (examples/browser/ beside dist/), with the build under test.
    dir = mkdtempSync(join(tmpdir(), 'ucode-example-'));
    mkdirSync(join(dir, 'examples', 'browser'), { recursive: true });
    copyFileSync(resolve('examples/browser/index.html'), join(dir, 'examples', 'browser', 'index.html'));
    symlinkSync(DIST, join(dir, 'dist'), 'dir');
    // A file:// page may load ES modules only with this switch (Chromium's file origin is opaque).
    browser = await launchChromiumWith(['--allow-file-access-from-files']);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs simulate() in the page: the same kernel log and stop window as Node', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    const url = pathToFileURL(join(dir, 'examples', 'browser', 'index.html'));
    url.search = '?seed=3&size=256K';
    await page.goto(url.href);
    await page.waitForFunction(() => (window as unknown as { __example?: unknown }).__example !== undefined);
    const inPage = await page.evaluate(() => (window as unknown as { __example: ExampleResult }).__example);
    const inNode = simulate({ machine: 'gnr-2s', seed: 3, syntheticImageBytes: 256 * 1024 });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(inPage.outcome).toBe(inNode.outcome);
    expect(inPage.dmesg).toBe(inNode.dmesg);
    expect(inPage.stopWindowNs).toBe(inNode.stopWindow!.durationNs);
    expect(await page.locator('#out').textContent()).toContain('stop window');
    await page.close();
  });
});
