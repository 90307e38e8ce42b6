import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulate } from '../../src/sim/simulate.js';
import { requireBuiltCli } from '../support/built-cli.js';
import { haveChromium, launchChromium, warnIfNoChromium } from '../support/chromium.js';

warnIfNoChromium('core-in-browser test');

/** The page a browser user would write: the built library as ES modules, zod through an import map. */
const PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "zod": "/node_modules/zod/index.js" } }</script>
<script type="module">
  import { simulate, formatSummary } from '/dist/index.js';
  const r = simulate({ machine: 'gnr-2s', seed: 3, syntheticImageBytes: 256 * 1024, trace: false });
  window.__result = { dmesg: r.dmesg, outcome: r.outcome, stop: r.stopWindow.durationNs, summary: formatSummary(r) };
</script>`;

const ROOT = resolve('.');
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html' };

describe.skipIf(!haveChromium)('the simulation core in a browser', () => {
  let server: Server;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => {
    requireBuiltCli();
    server = createServer((req, res) => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      if (path === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
        return;
      }
      // Only the built library and zod are served: anything else the page needs is a bug.
      const file = join(ROOT, path);
      if (!/^\/(dist|node_modules\/zod)\//.test(path) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
        .end(readFileSync(file));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((ok) => server?.close(ok));
  });

  it('simulate() runs unchanged and gives the same result as in Node', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const missing: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('response', (r) => {
      if (r.status() === 404) missing.push(r.url());
    });
    await page.goto(origin);
    await page.waitForFunction(
      () => (window as unknown as { __result?: unknown }).__result !== undefined,
      null,
      {
        timeout: 30_000,
      },
    );
    const inBrowser = await page.evaluate(
      () =>
        (window as unknown as { __result: { dmesg: string; outcome: string; stop: number; summary: string } })
          .__result,
    );
    expect(errors).toEqual([]);
    expect(missing).toEqual([]);
    const inNode = simulate({ machine: 'gnr-2s', seed: 3, syntheticImageBytes: 256 * 1024, trace: false });
    expect(inBrowser.outcome).toBe('updated');
    expect(inBrowser.dmesg).toBe(inNode.dmesg);
    expect(inBrowser.stop).toBe(inNode.stopWindow!.durationNs);
    expect(inBrowser.summary).toContain('stop window');
  }, 60_000);
});
