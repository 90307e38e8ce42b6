import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate } from '../../src/sim/simulate.js';
import { DIST, requireDist } from '../cli/built.js';
import { haveChromium, launchChromium, warnIfNoChromium } from '../support/chromium.js';

warnIfNoChromium('core-in-browser test');

/** The page a browser user writes: the browser build, one ES module, and no import map. */
const PAGE = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">
  import { simulate, formatSummary } from '/ucode-staging.js';
  const r = simulate({ machine: 'gnr-2s', seed: 3, syntheticImageBytes: 256 * 1024, trace: false });
  window.__result = { dmesg: r.dmesg, outcome: r.outcome, stop: r.stopWindow.durationNs, summary: formatSummary(r) };
</script>`;

describe.skipIf(!haveChromium)('the simulation core in a browser', () => {
  let server: Server;
  let browser: Browser;
  let origin: string;
  const served: string[] = [];

  beforeAll(async () => {
    requireDist();
    const bundle = join(DIST, 'browser', 'ucode-staging.js');
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\``);
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      served.push(path);
      if (path === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      // The bundle alone: a dependency it still imported (zod, a sibling module) would be a 404.
      else if (path === '/ucode-staging.js')
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(bundle));
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => server?.close(ok));
  });

  it('simulate() runs unchanged from the one-file bundle and gives the same result as in Node', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(origin);
    await page.waitForFunction(
      () => (window as unknown as { __result?: unknown }).__result !== undefined,
      null,
      { timeout: 30_000 },
    );
    const inBrowser = await page.evaluate(
      () =>
        (window as unknown as { __result: { dmesg: string; outcome: string; stop: number; summary: string } })
          .__result,
    );
    expect(errors).toEqual([]);
    expect(served).toEqual(['/', '/ucode-staging.js']);
    const inNode = simulate({ machine: 'gnr-2s', seed: 3, syntheticImageBytes: 256 * 1024, trace: false });
    expect(inBrowser.outcome).toBe('updated');
    expect(inBrowser.dmesg).toBe(inNode.dmesg);
    expect(inBrowser.stop).toBe(inNode.stopWindow!.durationNs);
    expect(inBrowser.summary).toContain('stop window');
  }, 60_000);
});
