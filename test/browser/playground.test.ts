import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../../src/format/hex.js';
import { inspectFile } from '../../src/format/inspect-report.js';
import { simulate } from '../../src/sim/simulate.js';
import { BUILT_MAIN, DIST, requireDist } from '../cli/built.js';
import { haveChromium, warnIfNoChromium } from '../support/chromium.js';
import { launchChromiumWith, median } from './helpers.js';

warnIfNoChromium('playground test');

// window.__playground is the page's PlaygroundHandle (src/playground/page.ts declares it).

const FIRMWARE_DIR = process.env.UCODE_FIRMWARE_DIR;
const REAL_FILE = FIRMWARE_DIR ? join(FIRMWARE_DIR, '06-ad-01') : undefined;
if (!REAL_FILE || !existsSync(REAL_FILE))
  console.warn('[playground test] the 06-ad-01 drop is skipped: set UCODE_FIRMWARE_DIR to intel-ucode');

/** `ucode-staging playground --port 0`, as a user starts it; resolves to its URL. */
function startServer(): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(process.execPath, [BUILT_MAIN, 'playground', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) resolve({ child, origin: m[1]! });
    });
    child.stderr!.on('data', (d: Buffer) => reject(new Error(`playground: ${String(d)}`)));
    child.on('exit', (code) => reject(new Error(`playground exited with ${code}: ${out}`)));
  });
}

/** A raw HTTP GET (fetch would normalise '..' away), with the headers given. */
function get(
  origin: string,
  path: string,
  opts: { method?: string; host?: string } = {},
): Promise<{ status: number; type: string | undefined }> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.host ? { host: opts.host } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!haveChromium)('the playground (ucode-staging playground, in Chromium)', () => {
  let browser: Browser;
  let server: ChildProcess;
  let origin: string;
  /** One page for the tests that follow each other on it (a user's session); a link gets its own. */
  let page: Page;
  const errors: string[] = [];
  const outside: string[] = [];

  beforeAll(async () => {
    requireDist();
    ({ child: server, origin } = await startServer());
    browser = await launchChromiumWith([]);
    page = await open();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill();
  });

  /** A page that fails every request that is not to the playground's own server. */
  async function open(hash = ''): Promise<Page> {
    const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('file:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
    await p.goto(`${origin}/${hash}`);
    await p.waitForFunction(() => (window.__playground?.shown ?? 0) >= 1);
    return p;
  }

  const shown = (p: Page) => p.evaluate(() => window.__playground!.shown);
  /** Until the newest run and its staging off vs on are on screen. */
  async function settled(p: Page): Promise<void> {
    await p.waitForFunction(() => {
      const h = window.__playground!;
      return h.shown === h.requested && h.compared === h.requested;
    });
  }

  it('loads with no console error and no request off its server, runs the default load, reruns on a change', async () => {
    await settled(page);
    const inNode = simulate({});
    const stop = page.getByTestId('stop-window');
    expect(Number(await stop.getAttribute('data-ns'))).toBe(inNode.stopWindow!.durationNs);
    expect(await page.getByTestId('dmesg').textContent()).toBe(inNode.dmesg);
    expect(await page.locator('#timeline').getAttribute('srcdoc')).toContain('data-testid="timeline-canvas"');
    expect(await page.getByTestId('compare').locator('tbody tr').count()).toBe(2);

    // Reruns of the default machine, a new seed each: the time from the change to the run on screen.
    const total: number[] = [];
    const frame: number[] = [];
    for (let seed = 2; seed <= 6; seed++) {
      const before = await shown(page);
      await page.getByTestId('seed').fill(String(seed));
      await page.waitForFunction(
        (n) => window.__playground!.shown > n && window.__playground!.lastRun!.frameMs >= 0,
        before,
      );
      const run = await page.evaluate(() => window.__playground!.lastRun!);
      expect(run.stopWindowNs).toBe(inNode.stopWindow!.durationNs);
      total.push(run.totalMs);
      frame.push(run.frameMs);
    }
    console.info(
      `[playground test] default machine rerun: on screen ${median(total).toFixed(0)} ms, timeline drawn ${median(frame).toFixed(0)} ms (medians of ${total.length})`,
    );
    expect(new URL(page.url()).hash).toBe('#--seed=6');
    await settled(page);
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
  });

  it('a guided example: the dead mailbox gives -110 after 10,000 polls', async () => {
    await page.locator('[data-example="dead-mailbox"]').click();
    await page.waitForFunction(() =>
      document.querySelector('#dmesg')?.textContent?.includes('staging failed'),
    );
    expect(await page.getByTestId('dmesg').textContent()).toContain('Error: staging failed (-110)');
    expect(await page.getByTestId('passes').locator('tbody').textContent()).toContain('10,000');
    expect(await page.getByTestId('example-note').isVisible()).toBe(true);
    expect(new URL(page.url()).hash).toBe('#--fault=never-ready@0');
    expect(errors).toEqual([]);
  });

  it('the copied CLI command gives the same result as the page (a machine shape, a fault, a seed)', async () => {
    await page.getByTestId('machine').selectOption('custom');
    await page.locator('[name="shape-packages"]').fill('3');
    await page.locator('[name="shape-cores"]').fill('4');
    await page.getByTestId('fault').fill('1=error-status@2');
    await page.getByTestId('fault').blur();
    await page.getByTestId('seed').fill('5');
    await page.waitForFunction(() =>
      document.querySelector('#cli-command')?.textContent?.includes('--seed 5'),
    );
    await settled(page);
    await page.getByTestId('copy-cli').click();
    const command = (await page.getByTestId('cli-command').textContent())!;
    expect(command).toMatch(/^printf .* > playground-machine\.json && ucode-staging simulate /);
    expect(command).toContain('--fault 1=error-status@2');
    const summary = (await page.getByTestId('summary').textContent())!;
    const dmesg = (await page.getByTestId('dmesg').textContent())!;

    const cwd = mkdtempSync(join(tmpdir(), 'ucode-playground-cli-'));
    try {
      const r = spawnSync('bash', ['-c', `ucode-staging() { "$NODE" "$MAIN" "$@"; }\n${command}`], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, NODE: process.execPath, MAIN: BUILT_MAIN },
      });
      expect(r.stderr).toBe('');
      const [header, , ...rest] = summary.split('\n');
      expect(r.stdout).toBe(`${header}\n\n${dmesg}\n${rest.join('\n')}`);
      expect(JSON.parse(readFileSync(join(cwd, 'playground-machine.json'), 'utf8'))).toMatchObject({
        packages: 3,
        coresPerPackage: 4,
      });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
    expect(errors).toEqual([]);
  });

  it("a dropped file is checked in the page: an invalid one gets the kernel's message", async () => {
    const bytes = new Uint8Array(100); // a header of zeros: the kernel reads 2000 data bytes that are not there
    const expected = inspectFile('bad.bin', bytes).error!.message;
    await page.evaluate((data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], 'bad.bin'));
      document
        .querySelector('#drop')!
        .dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true }));
    }, Array.from(bytes));
    await page.waitForFunction(() =>
      document.querySelector('#image-info')?.textContent?.includes('microcode:'),
    );
    expect(await page.getByTestId('image-info').textContent()).toContain(`microcode: ${expected}`);
    await page.waitForFunction(() => document.querySelector('#summary')?.textContent?.includes('bad.bin'));
    expect(new URL(page.url()).hash).toContain('--firmware=bad.bin');
  });

  it.skipIf(!REAL_FILE || !existsSync(REAL_FILE))(
    "dropping Intel's 06-ad-01 shows its revision and runs it",
    async () => {
      const listing = inspectFile('06-ad-01', readFileSync(REAL_FILE!));
      expect(listing.error).toBeNull();
      await page.getByTestId('file-input').setInputFiles(REAL_FILE!);
      await page.waitForFunction(() =>
        document.querySelector('#image-info')?.textContent?.includes('06-ad-01'),
      );
      const info = (await page.getByTestId('image-info').textContent())!;
      for (const b of listing.blobs) expect(info).toContain(`revision ${hex(b.revision)}`);
      await page.waitForFunction(() =>
        document.querySelector('#summary')?.textContent?.includes('06-ad-01: revision'),
      );
      expect(new URL(page.url()).hash).toContain('--firmware=06-ad-01');
      expect(errors).toEqual([]);
    },
  );

  it('a shared link reproduces the run, and the CLI prints the same link', async () => {
    // A link typed into the address bar (a hash change), then a control changed: the link to share.
    await page.evaluate(() => {
      location.hash = '#--machine=up&--fault=never-ready@0&--hz=250&--seed=9';
    });
    await page.waitForFunction(() => document.querySelector('#summary')?.textContent?.includes('machine up'));
    const before = await shown(page);
    await page.getByTestId('staging').selectOption('require');
    await page.waitForFunction((n) => window.__playground!.shown > n, before);
    const url = page.url();
    expect(url).toContain('--staging=require');
    const stop = await page.getByTestId('stop-window').getAttribute('data-ns');
    const dmesg = await page.getByTestId('dmesg').textContent();

    const again = await open(new URL(url).hash);
    expect(await again.getByTestId('stop-window').getAttribute('data-ns')).toBe(stop);
    expect(await again.getByTestId('dmesg').textContent()).toBe(dmesg);
    expect(await again.getByTestId('staging').inputValue()).toBe('require');
    await again.close();

    const link = spawnSync(
      process.execPath,
      [
        BUILT_MAIN,
        'playground',
        '--link',
        '-m',
        'up',
        '--fault',
        'never-ready@0',
        '--hz',
        '250',
        '--staging',
        'require',
        '--seed',
        '9',
      ],
      { encoding: 'utf8' },
    );
    expect(link.status).toBe(0);
    expect(new URL(link.stdout.trim()).hash).toBe(new URL(url).hash);
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
  });

  it('serves only its own files, on its own name, with their content types', async () => {
    expect(await get(origin, '/')).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    expect(await get(origin, '/playground.js')).toEqual({
      status: 200,
      type: 'text/javascript; charset=utf-8',
    });
    expect(await get(origin, '/style.css')).toEqual({ status: 200, type: 'text/css; charset=utf-8' });
    for (const path of [
      '/../package.json',
      '/%2e%2e/%2e%2e/package.json',
      '/..%2f..%2fpackage.json',
      '/.hidden',
      '/nope.js',
      '/%00',
    ])
      expect((await get(origin, path)).status, path).toBe(404);
    expect((await get(origin, '/', { method: 'POST' })).status).toBe(405);
    expect((await get(origin, '/', { host: 'attacker.example' })).status).toBe(421);
    expect(existsSync(join(DIST, 'playground', 'index.html'))).toBe(true);
  });
});
