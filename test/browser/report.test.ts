import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms3 } from '../../src/output/format.js';
import { renderReport } from '../../src/output/html-report.js';
import type { ReportHandle } from '../../src/output/report-types.js';
import { PRESETS } from '../../src/platform/presets.js';
import type { SimulationResult } from '../../src/sim/result-types.js';
import { simulate } from '../../src/sim/simulate.js';
import { haveChromium, launchChromium, warnIfNoChromium } from '../support/chromium.js';

warnIfNoChromium('report browser test');
const OUT_DIR = fileURLToPath(new URL('../../out/', import.meta.url));

interface Loaded {
  page: Page;
  errors: string[];
  requests: string[];
  readyMs: number;
}

declare global {
  interface Window {
    __report?: ReportHandle;
  }
}

describe.skipIf(!haveChromium)('HTML report in Chromium', () => {
  let browser: Browser;
  let dir: string;
  let big: SimulationResult;
  let compare: SimulationResult[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ucode-report-'));
    big = simulate({ machine: 'gnr-8s' });
    compare = [simulate({ machine: 'gnr-2s', policy: { staging: 'off' } }), simulate({ machine: 'gnr-2s' })];
    writeFileSync(join(dir, 'gnr-8s.html'), renderReport({ results: [big] }));
    writeFileSync(
      join(dir, 'compare.html'),
      renderReport({ results: compare, labels: ['staging off', 'staging on'] }),
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(file: string): Promise<Loaded> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    const started = Date.now();
    await page.goto(pathToFileURL(join(dir, file)).href);
    await page.waitForFunction(() => window.__report?.ready === true);
    return { page, errors, requests, readyMs: Date.now() - started };
  }

  it('renders the 1376-CPU gnr-8s report quickly and correctly', async () => {
    const { page, errors, requests, readyMs } = await open('gnr-8s.html');
    const report = await page.evaluate(() => ({
      ready: window.__report!.ready,
      rows: window.__report!.rows,
      spans: window.__report!.spans,
      readyMs: window.__report!.readyMs,
    }));
    console.info(
      `[report browser test] gnr-8s report (${big.machine.cpus} CPUs, ${report.spans} spans): ready ${readyMs} ms after navigation started (page clock ${report.readyMs.toFixed(0)} ms)`,
    );
    expect(report.ready).toBe(true);
    expect(report.rows).toBe(big.machine.cpus);
    expect(report.spans).toBe(big.trace.spans.length + big.staging.packages.length + 1);
    expect(readyMs).toBeLessThan(10_000);
    expect(await page.getByTestId('timeline-row-count').textContent()).toBe(String(big.machine.cpus));

    const stop = page.getByTestId('stop-window-ns');
    expect(Number(await stop.getAttribute('data-ns'))).toBe(big.stopWindow!.durationNs);
    expect(await stop.textContent()).toBe(`${ms3(big.stopWindow!.durationNs)} ms`);

    // 172 CPUs per package: every group starts collapsed to its aggregate row.
    const visible = page.getByTestId('timeline-visible-rows');
    expect(await visible.textContent()).toBe('0');
    const toggle0 = page.locator('[data-testid="group-toggle"][data-pkg="0"]');
    expect(await toggle0.getAttribute('aria-expanded')).toBe('false');
    await toggle0.click();
    expect(await visible.textContent()).toBe('172');
    expect(await toggle0.getAttribute('aria-expanded')).toBe('true');
    await page.getByRole('button', { name: 'expand all' }).click();
    expect(await visible.textContent()).toBe(String(big.machine.cpus));
    await page.getByRole('button', { name: 'collapse all' }).click();
    expect(await visible.textContent()).toBe('0');
    await toggle0.click();
    expect(await visible.textContent()).toBe('172');

    // The wheel without a modifier scrolls the page and leaves the zoom alone.
    const range = page.getByTestId('timeline-range');
    const width = async () =>
      Number(await range.getAttribute('data-t1')) - Number(await range.getAttribute('data-t0'));
    const before = await width();
    const canvas = page.getByTestId('timeline-canvas');
    let box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 60);
    await page.mouse.wheel(0, 300);
    await page.waitForFunction(() => window.scrollY > 0);
    expect(await width()).toBe(before);
    await page.getByTestId('timeline-wheel-hint').waitFor({ state: 'visible' });

    // Ctrl + wheel around the stop window zooms and does not scroll the page.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForFunction(() => window.scrollY === 0);
    box = (await canvas.boundingBox())!;
    const stopMid = big.stopWindow!.startNs + big.stopWindow!.durationNs / 2 - big.reload.startNs;
    const at = await page.evaluate((t) => window.__report!.timelines[0]!.pointFor(0, t), stopMid);
    expect(at).not.toBeNull();
    await page.mouse.move(at!.x, box.y + 60);
    await page.keyboard.down('Control');
    for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -400);
    await page.keyboard.up('Control');
    await page.waitForFunction((w) => {
      const el = document.querySelector<HTMLElement>('[data-testid="timeline-range"]')!;
      return Number(el.dataset.t1) - Number(el.dataset.t0) < w / 4;
    }, before);
    const after = await width();
    expect(after).toBeLessThan(before / 4);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);

    // Drag pans without changing the zoom.
    const t0Before = Number(await range.getAttribute('data-t0'));
    await page.mouse.move(box.x + box.width / 2, box.y + 80);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - 150, box.y + 80, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction((t) => {
      const el = document.querySelector<HTMLElement>('[data-testid="timeline-range"]')!;
      return Number(el.dataset.t0) > t;
    }, t0Before);
    expect(await width()).toBeCloseTo(after, 0);

    // The stop-window button brings the stop window into view: the range covers it and is a
    // small part of the whole run.
    await page.getByRole('button', { name: 'fit' }).click();
    await page.waitForFunction((w) => {
      const el = document.querySelector<HTMLElement>('[data-testid="timeline-range"]')!;
      return Number(el.dataset.t1) - Number(el.dataset.t0) === w;
    }, before);
    const sw0 = big.stopWindow!.startNs - big.reload.startNs;
    const sw1 = big.stopWindow!.endNs - big.reload.startNs;
    await page.getByTestId('show-stop-window').click();
    await page.waitForFunction((w) => {
      const el = document.querySelector<HTMLElement>('[data-testid="timeline-range"]')!;
      return Number(el.dataset.t1) - Number(el.dataset.t0) < w / 10;
    }, before);
    const shown = await page.evaluate(() => window.__report!.timelines[0]!.view());
    expect(shown.t0).toBeLessThanOrEqual(sw0);
    expect(shown.t1).toBeGreaterThanOrEqual(sw1);
    expect(shown.t1 - shown.t0).toBeLessThan(2 * (sw1 - sw0));
    expect(shown.t1 - shown.t0).toBeLessThan(before / 10);

    // Keys zoom and pan once the timeline has the focus (a click or Tab), with a visible ring.
    await page.getByRole('button', { name: 'fit' }).click();
    await canvas.focus();
    expect(await canvas.evaluate((el) => document.activeElement === el)).toBe(true);
    expect(await canvas.evaluate((el) => getComputedStyle(el).outlineStyle)).toBe('solid');
    const viewNow = () => page.evaluate(() => window.__report!.timelines[0]!.view());
    await page.waitForFunction((w) => {
      const v = window.__report!.timelines[0]!.view();
      return v.t1 - v.t0 === w;
    }, before);
    await page.keyboard.press('+');
    await page.keyboard.press('=');
    await page.waitForFunction((w) => {
      const v = window.__report!.timelines[0]!.view();
      return Math.abs(v.t1 - v.t0 - w / 4) < 1;
    }, before);
    const zoomed = await viewNow();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((t) => window.__report!.timelines[0]!.view().t0 > t, zoomed.t0);
    await page.keyboard.press('-');
    await page.waitForFunction((w) => {
      const v = window.__report!.timelines[0]!.view();
      return Math.abs(v.t1 - v.t0 - w / 2) < 1;
    }, before);
    await page.keyboard.press('s');
    await page.waitForFunction(
      ([a, b]) => {
        const v = window.__report!.timelines[0]!.view();
        return v.t0 <= a! && v.t1 >= b! && v.t1 - v.t0 < 2 * (b! - a!);
      },
      [sw0, sw1],
    );
    await page.keyboard.press('0');
    await page.waitForFunction((w) => {
      const v = window.__report!.timelines[0]!.view();
      return v.t1 - v.t0 === w;
    }, before);
    // With the focus, the wheel acts on the timeline without a modifier.
    box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 60);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((w) => {
      const v = window.__report!.timelines[0]!.view();
      return v.t1 - v.t0 < w;
    }, before);
    await page.keyboard.press('Escape');
    expect(await canvas.evaluate((el) => document.activeElement === el)).toBe(false);

    // Hover over CPU 0's apply span shows its details.
    await page.getByRole('button', { name: 'fit' }).click();
    const apply = big.trace.spans.find((s) => s.cat === 'apply' && s.cpu === 0)!;
    const applyMid = (apply.startNs + apply.endNs) / 2 - big.reload.startNs;
    await page.waitForFunction((t) => window.__report!.timelines[0]!.pointFor(0, t) !== null, applyMid);
    const p = (await page.evaluate((t) => window.__report!.timelines[0]!.pointFor(0, t), applyMid))!;
    await page.mouse.move(p.x, p.y);
    const tooltip = page.getByTestId('timeline-tooltip');
    await tooltip.waitFor({ state: 'visible' });
    const tip = (await tooltip.textContent())!;
    expect(tip).toContain(apply.name);
    expect(tip).toContain('CPU 0 (package 0)');
    expect(tip).toContain('duration:');
    expect(tip).toContain('result: updated');

    // The stop window up close for the screenshot, with the tooltip showing.
    const sw = big.stopWindow!;
    await page.evaluate(
      ([a, b]) => window.__report!.timelines[0]!.setView(a!, b!),
      [sw.startNs - big.reload.startNs - 4e6, sw.endNs - big.reload.startNs + 4e6],
    );
    const p2 = (await page.evaluate((t) => window.__report!.timelines[0]!.pointFor(3, t), applyMid))!;
    await page.mouse.move(p2.x, p2.y);
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="timeline-tooltip"]')?.textContent?.includes('CPU 3'),
    );
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, 'report-screenshot.png') });

    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('renders a comparison of two results', async () => {
    const { page, errors, requests } = await open('compare.html');
    const report = await page.evaluate(() => ({
      rows: window.__report!.rows,
      n: window.__report!.timelines.length,
    }));
    expect(report.n).toBe(2);
    expect(report.rows).toBe(compare[0]!.machine.cpus + compare[1]!.machine.cpus);
    const counts = await page.getByTestId('timeline-row-count').allTextContents();
    expect(counts).toEqual(compare.map((r) => String(r.machine.cpus)));
    const shown = await page
      .getByTestId('stop-window-ns')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-ns')));
    expect(shown.map(Number)).toEqual(compare.map((r) => r.stopWindow!.durationNs));
    expect(await page.locator('[data-testid="compare"] svg').count()).toBe(3);
    const cards = await page.getByTestId('result-card').locator('h2').allTextContents();
    expect(cards).toEqual(['staging off', 'staging on']);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('says what went wrong: a staging failure in the header card and on the timeline, and the timeline as a table', async () => {
    const r = simulate({
      machine: {
        ...PRESETS['gnr-2s']!,
        packageConfig: [{}, { faults: [{ kind: 'never-ready', atTransaction: 3 }] }],
      },
    });
    writeFileSync(join(dir, 'staging-failed.html'), renderReport({ results: [r] }));
    const { page, errors, requests } = await open('staging-failed.html');

    const line = page.getByTestId('result-card').getByTestId('highlight');
    expect(await line.count()).toBe(1);
    expect(await line.getAttribute('data-kind')).toBe('staging-failed');
    expect(await line.locator('span').textContent()).toBe(
      'staging failed (-110, ETIMEDOUT) on package 1 (CPU 128); the load went on unstaged',
    );
    // A clearly coloured line: red text on a light red ground.
    const colors = await line.evaluate((el) => {
      const cs = getComputedStyle(el);
      return { color: cs.color, background: cs.backgroundColor };
    });
    expect(colors).toEqual({ color: 'rgb(142, 0, 0)', background: 'rgb(253, 236, 234)' });

    // The timeline marks the failing pass, and draws it: the strip under the axis is red there.
    const pass = r.staging.packages.find((p) => p.errno !== 0)!;
    const marks = await page.evaluate(() => window.__report!.timelines[0]!.marks());
    expect(marks).toEqual([
      {
        kind: 'staging-failed',
        label: 'staging failed (-110) on package 1',
        s: pass.startNs - r.reload.startNs,
        e: pass.endNs - r.reload.startNs,
        open: false,
      },
    ]);
    const mid = (pass.startNs + pass.endNs) / 2 - r.reload.startNs;
    await page.evaluate(() => window.__report!.timelines[0]!.setExpanded(1, true));
    const pixel = await page.evaluate(
      ([cpu, t]) => {
        const at = window.__report!.timelines[0]!.pointFor(cpu!, t!);
        const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="timeline-canvas"]')!;
        const rect = canvas.getBoundingClientRect();
        const dpr = window.devicePixelRatio || 1;
        // The highlight strip's bar, just above the host row (axis 26 px, strip 18 px).
        const d = canvas
          .getContext('2d')!
          .getImageData(Math.round((at!.x - rect.left) * dpr), Math.round(42 * dpr), 1, 1).data;
        return [d[0], d[1], d[2]];
      },
      [pass.cpu, mid],
    );
    expect(pixel).toEqual([0xd5, 0, 0]);

    // "show on timeline" zooms to it.
    await line.getByRole('button', { name: 'show on timeline' }).click();
    await page.waitForFunction(
      ([a, b]) => {
        const v = window.__report!.timelines[0]!.view();
        return v.t0 <= a! && v.t1 >= b! && v.t1 - v.t0 < 1.5 * (b! - a!);
      },
      [marks[0]!.s, marks[0]!.e],
    );

    // The canvas says what it shows; the table alternative is in a <details>.
    const label = (await page.getByTestId('timeline-canvas').getAttribute('aria-label'))!;
    expect(label).toContain('staging failed (-110, ETIMEDOUT) on package 1');
    expect(label).toContain(`the stop window (${ms3(r.stopWindow!.durationNs)} ms`);
    const table = page.getByTestId('timeline-table');
    expect(await table.evaluate((el) => el.tagName)).toBe('DETAILS');
    expect(await table.getAttribute('open')).toBeNull();
    await table.locator('summary').click();
    const passes = page.getByTestId('timeline-table-passes').locator('tbody tr');
    await passes.first().waitFor({ state: 'visible' });
    expect(await passes.count()).toBe(2);
    expect(await passes.nth(1).locator('td').last().textContent()).toBe('-110');
    expect(await page.getByTestId('timeline-table-stop').locator('tbody tr').count()).toBe(4);

    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('stays responsive with 100,000+ spans (interleaved numbering: 256 staging passes)', async () => {
    const r = simulate({ machine: 'gnr-2s-interleaved' });
    writeFileSync(join(dir, 'interleaved.html'), renderReport({ results: [r] }));
    const { page, errors, readyMs } = await open('interleaved.html');
    const spans = await page.evaluate(() => window.__report!.spans);
    console.info(`[report browser test] gnr-2s-interleaved report (${spans} spans): ready ${readyMs} ms`);
    expect(spans).toBeGreaterThan(100_000);
    expect(readyMs).toBeLessThan(15_000);
    // Expanding everything and zooming redraws without trouble.
    await page.getByRole('button', { name: 'expand all' }).click();
    expect(await page.getByTestId('timeline-visible-rows').textContent()).toBe(String(r.machine.cpus));
    const box = (await page.getByTestId('timeline-canvas').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 100);
    const started = Date.now();
    await page.keyboard.down('Control');
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, i < 5 ? -300 : 300);
    await page.keyboard.up('Control');
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(errors).toEqual([]);
    await page.close();
  });
});
