import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderFleetReport } from '../../src/fleet/html.js';
import type { FleetReport } from '../../src/index.js';
import { haveChromium, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { FLEET_FIXTURES, fleetCli } from './helpers.js';

warnIfNoChromium('fleet report browser test');
const OUT_DIR = fileURLToPath(new URL('../../out/', import.meta.url));

describe.skipIf(!haveChromium)('fleet HTML report in Chromium', () => {
  let browser: Browser;
  let dir: string;
  let report: FleetReport;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ucode-fleet-report-'));
    const run = await fleetCli(
      join(FLEET_FIXTURES, 'probes'),
      join(FLEET_FIXTURES, 'inventory/fleet.csv'),
      join(FLEET_FIXTURES, 'bad-probes'),
      '--json',
      '-',
    );
    report = JSON.parse(run.stdout) as FleetReport;
    writeFileSync(join(dir, 'fleet.html'), renderFleetReport({ report }));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the verdicts, the distribution, the hosts at risk and the waves; offline and without errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(join(dir, 'fleet.html')).href);

    // One row per verdict, with the report's counts.
    const verdicts = await page
      .getByTestId('verdict-row')
      .evaluateAll((rows) =>
        rows.map((r) => [r.getAttribute('data-kind'), Number(r.getAttribute('data-hosts'))]),
      );
    expect(Object.fromEntries(verdicts)).toEqual(report.verdicts);
    expect(Number(await page.getByTestId('card-hosts').getAttribute('data-value'))).toBe(report.inputs.hosts);

    // The histogram: each series' bars add up to the hosts with that figure.
    const chart = page.getByTestId('stop-window-chart');
    expect(await chart.isVisible()).toBe(true);
    const bars = await chart
      .locator('rect.bar')
      .evaluateAll((rs) =>
        rs.map((r) => [r.getAttribute('data-series'), Number(r.getAttribute('data-hosts'))] as const),
      );
    const sum = (series: string) => bars.filter(([s]) => s === series).reduce((n, [, h]) => n + h, 0);
    expect(sum('with-staging')).toBe(report.stopWindow.withStaging!.hosts);
    expect(sum('without-staging')).toBe(report.stopWindow.withoutStaging!.hosts);
    // The inventory's 12 s host puts the 10 s budget inside the chart.
    expect(await page.getByTestId('budget-line').count()).toBe(1);
    const stats = page.getByTestId('stats-as-planned');
    expect(Number(await stats.getAttribute('data-median'))).toBe(report.stopWindow.asPlanned!.medianNs);

    // Hosts at risk: the fallback panics and the host over the budget, by shape.
    const risks = await page
      .getByTestId('risk-row')
      .evaluateAll((rows) =>
        rows.map((r) => [Number(r.getAttribute('data-shape')), r.getAttribute('data-risks')]),
      );
    expect(risks).toEqual(report.shapes.filter((s) => s.risks.length).map((s) => [s.id, s.risks.join(' ')]));
    expect(risks.map(([, r]) => r)).toEqual(expect.arrayContaining(['fallback-panic', 'over-budget']));
    expect(await page.getByTestId('risk-row').first().textContent()).toContain('if staging fails');

    // The waves cover the planned hosts; the skipped inputs are listed with their files.
    const waves = await page
      .getByTestId('wave-row')
      .evaluateAll((rows) =>
        rows.map(
          (r) =>
            (Number(r.getAttribute('data-last')) - Number(r.getAttribute('data-first')) + 1) *
            Number(r.getAttribute('data-hosts')),
        ),
      );
    expect(waves.reduce((a, b) => a + b, 0)).toBe(report.rollout.hosts);
    expect(await page.getByTestId('problem').count()).toBe(report.problems.length);
    expect(await page.getByTestId('shape-row').count()).toBe(report.shapes.length);

    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, 'fleet-report-screenshot.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });

  it('escapes host names and messages (no markup from a file name)', async () => {
    const evil = structuredClone(report);
    evil.shapes[0]!.examples = ['<img src=x onerror=alert(1)>'];
    evil.problems = [{ file: '<b>x</b>.json', line: 1, message: '<script>alert(1)</script>' }];
    writeFileSync(join(dir, 'evil.html'), renderFleetReport({ report: evil }));
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(join(dir, 'evil.html')).href);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.getByTestId('problem').first().textContent()).toContain('<script>alert(1)</script>');
    expect(dialogs).toEqual([]);
    await page.close();
  });
});
