import { describe, expect, it } from 'vitest';
import { grouped, ms3 } from '../../src/output/format.js';
import { renderReport, reportHighlights, reportLabels } from '../../src/output/html-report.js';
import { reportClient } from '../../src/output/report-client.js';
import type { ReportData } from '../../src/output/report-types.js';
import { PRESETS } from '../../src/platform/presets.js';
import type { SimulationResult } from '../../src/sim/result-types.js';
import { simulate } from '../../src/sim/simulate.js';
import { cloneResult, run } from './fixtures.js';

const HOSTILE = '<script>alert(1)</script>';

function embeddedData(html: string): ReportData {
  const m = /<script type="application\/json" id="report-data">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error('no data element');
  return JSON.parse(m[1]!) as ReportData;
}

function testidAttrs(html: string, testid: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  const re = new RegExp(`<[a-z]+ data-testid="${testid}"([^>]*)>`, 'g');
  for (const m of html.matchAll(re)) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/ data-([a-z-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    out.push(attrs);
  }
  return out;
}

function highlightLines(html: string): { kind: string; severity: string; text: string }[] {
  const re = /<li class="([a-z]+)" data-testid="highlight" data-kind="([a-z-]+)"><span>([^<]*)<\/span>/g;
  return [...html.matchAll(re)].map((m) => ({ severity: m[1]!, kind: m[2]!, text: m[3]! }));
}

function hostileResult(): SimulationResult {
  const r = cloneResult(
    simulate({ machine: { ...PRESETS.up!, name: HOSTILE, description: `"quoted" & <b>bold</b>` } }),
  );
  const evil = `microcode: </script><script>alert(2)</script><!-- \u2028 & "x"`;
  r.log.push({ timeNs: r.reload.endNs, level: 'err', text: evil });
  r.dmesg += `[  999.000000] ${evil}\n`;
  r.trace.spans.push({
    name: `</script>${HOSTILE}`,
    cat: 'apply',
    cpu: 0,
    startNs: r.reload.startNs,
    endNs: r.reload.endNs,
  });
  return r;
}

describe('renderReport', () => {
  it('is one self-contained page: no network, no external resources', () => {
    const html = renderReport({ results: [run('gnr-2s')] });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/\s(?:src|href|srcset|action|poster)\s*=/i);
    expect(html).not.toMatch(/<(?:link|iframe|img|object|embed|base)\b/i);
    expect(html).not.toMatch(/@import|url\(|@font-face/i);
    expect(html).not.toMatch(/\bimport\s*\(|fetch\(|XMLHttpRequest|WebSocket/);
    expect(html.match(/<script\b/g)!.length).toBe(2);
    expect(html.match(/<\/script>/g)!.length).toBe(2);
    expect(html).toMatch(/<style>/);
  });

  it('shows the summary numbers with raw values for tests', () => {
    const r = run('gnr-2s');
    const html = renderReport({ results: [r] });
    const [stop] = testidAttrs(html, 'stop-window-ns');
    expect(Number(stop!.ns)).toBe(r.stopWindow!.durationNs);
    expect(html).toContain(
      `data-testid="stop-window-ns" data-ns="${r.stopWindow!.durationNs}">${ms3(r.stopWindow!.durationNs)} ms<`,
    );
    expect(Number(testidAttrs(html, 'staging-ns')[0]!.ns)).toBe(r.staging.durationNs);
    expect(Number(testidAttrs(html, 'staging-bytes')[0]!.value)).toBe(r.staging.bytesSent);
    expect(Number(testidAttrs(html, 'staging-resends')[0]!.value)).toBe(r.staging.resends);
    expect(Number(testidAttrs(html, 'reload-ns')[0]!.ns)).toBe(r.reload.durationNs);
    expect(testidAttrs(html, 'outcome')[0]!.value).toBe('updated');
    expect(testidAttrs(html, 'revision')[0]).toMatchObject({
      old: String(r.revision.old),
      new: String(r.revision.new),
    });
    expect(html).toContain(`<b data-testid="timeline-row-count">${r.machine.cpus}</b>`);
    expect(html).toContain('<pre class="dmesg" data-testid="dmesg">');
    expect(html).toContain('microcode: Staging of patch revision 0x10003f0 succeeded.');
    expect(html).toContain('data-testid="cost-model"');
    expect(html).toContain('<code>applyStagedPerByteNs</code>');
  });

  it('embeds the timeline compactly: columnar spans, interned strings, relative times', () => {
    const r = run('gnr-2s');
    const data = embeddedData(renderReport({ results: [r] }));
    expect(data.v).toBe(1);
    const t = data.timelines[0]!;
    expect(t.originNs).toBe(r.reload.startNs);
    expect(t.cpuPkg).toEqual(r.cpus.map((c) => c.package));
    // Every span, plus the host row's stop window and its copies of the staging passes.
    const n = r.trace.spans.length + 1 + r.staging.packages.length;
    for (const col of [t.k, t.c, t.s, t.d, t.n, t.a]) expect(col.length).toBe(n);
    expect(t.strings.length).toBeLessThan(n / 2);
    expect(new Set(t.strings).size).toBe(t.strings.length);
    // Sorted by row (host first), layer, start.
    const layer = (i: number) => data.styles[t.k[i]!]!.layer;
    for (let i = 1; i < n; i++) {
      const order = t.c[i]! - t.c[i - 1]! || layer(i) - layer(i - 1) || t.s[i]! - t.s[i - 1]!;
      if (order < 0) throw new Error(`span ${i} out of order`);
    }
    const stop = t.strings.indexOf('stop window');
    const i = t.n.indexOf(stop);
    expect(t.c[i]).toBe(-1);
    expect(t.s[i]).toBeCloseTo(r.stopWindow!.startNs - r.reload.startNs, 0);
    expect(t.d[i]).toBeCloseTo(r.stopWindow!.durationNs, 0);
    // 256 CPUs per package: groups start collapsed.
    expect(t.collapsed).toEqual([true, true]);
    expect(embeddedData(renderReport({ results: [run('up')] })).timelines[0]!.collapsed).toEqual([false]);
  });

  it('colours failed transactions and rejected applies apart', () => {
    const data = embeddedData(
      renderReport({
        results: [run('never-ready at transaction 3'), run('apply rejected, one CPU offline')],
      }),
    );
    const styleOf = (ti: number) => new Set(data.timelines[ti]!.k.map((k) => data.styles[k]!.key));
    expect(styleOf(0).has('transaction_error')).toBe(true);
    expect(styleOf(1).has('apply_failed')).toBe(true);
  });

  it('escapes a hostile machine name, log text, labels and span names', () => {
    const r = hostileResult();
    const html = renderReport({ results: [r], title: `${HOSTILE} title`, labels: [`${HOSTILE} label`] });
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<b>bold</b>');
    expect(html).not.toContain('alert(2)</script>');
    expect(html.match(/<script\b/g)!.length).toBe(2);
    expect(html.match(/<\/script/g)!.length).toBe(2);
    expect(html.match(/<!--/g)).toBeNull();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; title');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;: 1 CPUs');
    expect(html).toContain('microcode: &lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;&lt;!-- ');
    // The embedded JSON still carries the exact strings.
    const data = embeddedData(html);
    expect(data.timelines[0]!.label).toBe(`${HOSTILE} label`);
    expect(data.timelines[0]!.strings).toContain(`</script>${HOSTILE}`);
    const json = /id="report-data">([^<]*)<\/script>/.exec(html)![1]!;
    expect(json).not.toMatch(/[\u2028\u2029<>]/);
  });

  it('compares results side by side with bar charts', () => {
    const off = run('staging off');
    const on = run('gnr-2s');
    const html = renderReport({ results: [off, on] });
    expect(html).toContain('data-testid="compare"');
    expect(html.match(/<svg\b/g)!.length).toBe(3);
    for (const title of ['Stop window', 'Staging time', 'Total time (reload write)'])
      expect(html).toContain(`<figcaption>${title}</figcaption>`);
    expect(html).toContain(`${ms3(off.stopWindow!.durationNs)} ms`);
    expect(html).toContain(`${ms3(on.stopWindow!.durationNs)} ms`);
    expect(testidAttrs(html, 'stop-window-ns').map((a) => Number(a.ns))).toEqual([
      off.stopWindow!.durationNs,
      on.stopWindow!.durationNs,
    ]);
    expect(html.match(/data-testid="timeline-canvas"/g)!.length).toBe(2);
    expect(embeddedData(html).timelines.map((t) => t.label)).toEqual([
      'gnr-2s, staging off',
      'gnr-2s, staging on',
    ]);
    // A single result has no comparison.
    expect(renderReport({ results: [on] })).not.toContain('data-testid="compare"');
  });

  it('labels results by default and keeps them distinct', () => {
    const a = run('gnr-2s');
    expect(reportLabels([a])).toEqual(['gnr-2s']);
    expect(reportLabels([a, a])).toEqual(['gnr-2s, staging on #1', 'gnr-2s, staging on #2']);
    expect(reportLabels([a, run('never-ready at transaction 3')], ['', 'fault'])).toEqual([
      'gnr-2s, staging on',
      'fault',
    ]);
  });

  it('handles a hang (no stop window) and rejects an empty input', () => {
    const html = renderReport({ results: [run('CPU never arrives (hang)')] });
    expect(testidAttrs(html, 'stop-window-ns')[0]!.ns).toBe('');
    expect(() => renderReport({ results: [] })).toThrow(RangeError);
  });

  it('says in the header card what went wrong, in words, and marks it on the timeline', () => {
    const clean = renderReport({ results: [run('gnr-2s')] });
    expect(clean).not.toContain('data-testid="highlight"');
    expect(embeddedData(clean).timelines[0]!.marks).toEqual([]);

    const r = run('never-ready at transaction 3');
    const html = renderReport({ results: [r] });
    const [line] = highlightLines(html);
    expect(line).toMatchObject({ kind: 'staging-failed', severity: 'bad' });
    expect(line!.text).toBe(
      'staging failed (-110, ETIMEDOUT) on package 0 (CPU 0); the load went on unstaged',
    );
    // The line comes first in the card, before the machine line.
    expect(html.indexOf('data-testid="highlight"')).toBeLessThan(html.indexOf('data-testid="machine-name"'));
    const t = embeddedData(html).timelines[0]!;
    const pass = r.staging.packages.find((p) => p.errno !== 0)!;
    expect(t.marks).toEqual([
      {
        kind: 'staging-failed',
        severity: 'bad',
        label: 'staging failed (-110) on package 0',
        s: pass.startNs - r.reload.startNs,
        e: pass.endNs - r.reload.startNs,
        open: false,
      },
    ]);
    expect(html).toContain('data-show-timeline="0" data-show-mark="0">show on timeline</button>');
  });

  it('names re-sends, a panic, a hang and a loop that never ends', () => {
    const resends = run('limited cache, verify pass');
    const [r1] = reportHighlights(resends);
    expect(r1).toMatchObject({ kind: 'resends', severity: 'warn' });
    expect(r1!.text).toBe(
      `${grouped(resends.staging.resends)} re-sends: the mailbox asked for chunks again (package 0: ${grouped(resends.staging.resends)})`,
    );
    expect(r1!.marks.map((m) => m.label)).toEqual([
      `${grouped(resends.staging.resends)} re-sends (package 0)`,
    ]);

    const failedAfterResends = reportHighlights(run('rerequest forever on package 1'));
    expect(failedAfterResends.map((h) => h.kind)).toEqual(['staging-failed']);
    expect(failedAfterResends[0]!.text).toMatch(
      /^staging failed \(-90, EMSGSIZE\) on package 1 \(CPU 128\) after [\d,]+ re-sends; the load went on unstaged$/,
    );

    const hang = reportHighlights(run('CPU never arrives (hang)'));
    expect(hang.map((h) => [h.kind, h.text])).toEqual([
      [
        'hang',
        'hang: stop_machine never completes: CPU 5 never reached the rendezvous (the write to reload never returns)',
      ],
    ]);
    expect(hang[0]!.marks[0]).toMatchObject({ open: true, severity: 'bad' });

    const panic = simulate({
      machine: 'gnr-2s',
      syntheticImageBytes: 16 * 1024 * 1024,
      policy: { staging: 'off' },
    });
    const [p] = reportHighlights(panic);
    expect(p!.text).toBe(
      'panic: Microcode load: Primary CPU 0 timed out (the machine stops; the write to reload never returns)',
    );
    const panicLine = panic.log.find((l) => l.text.startsWith('Kernel panic'))!;
    expect(p!.marks).toEqual([
      expect.objectContaining({ label: 'panic: Microcode load: Primary CPU 0 timed out', open: true }),
    ]);
    expect(p!.marks[0]!.s).toBeCloseTo(panicLine.timeNs - panic.reload.startNs, 0);

    const loop = simulate({
      machine: {
        ...PRESETS.up!,
        packageConfig: [{ faults: [{ kind: 'respond', atTransaction: 2, offset: 'len', sticky: true }] }],
      },
      syntheticImageBytes: 16384,
    });
    const hs = reportHighlights(loop);
    expect(hs.map((h) => h.kind)).toEqual(['does-not-terminate']);
    expect(hs[0]!.text).toBe(
      'never ends: do_stage() loops for ever staging package 0 (the CPUs keep running; the write to reload never returns)',
    );
    const html = renderReport({ results: [loop] });
    expect(html).toContain('data-testid="stuck"');
    expect(embeddedData(html).timelines[0]!.marks[0]).toMatchObject({
      kind: 'does-not-terminate',
      open: true,
      s: loop.staging.packages[0]!.startNs - loop.reload.startNs,
    });
  });

  it('gives the timeline a stop-window button, keyboard focus, an aria-label and a table alternative', () => {
    const r = run('gnr-2s');
    const html = renderReport({ results: [r] });
    const t = embeddedData(html).timelines[0]!;
    expect(t.stop).toEqual({
      s: r.stopWindow!.startNs - r.reload.startNs,
      e: r.stopWindow!.endNs - r.reload.startNs,
    });
    expect(html).toMatch(
      /<button type="button" data-action="stop-window" data-testid="show-stop-window" [^>]*>stop window</,
    );
    const canvas = /<canvas ([^>]*)>/.exec(html)![1]!;
    expect(canvas).toContain('tabindex="0"');
    expect(canvas).toContain('role="application"');
    expect(canvas).toMatch(/aria-describedby="timeline-help-0"/);
    expect(html).toContain('id="timeline-help-0"');
    const label = /aria-label="([^"]*)"/.exec(canvas)![1]!;
    expect(label).toContain(`the stop window (${ms3(r.stopWindow!.durationNs)} ms`);
    expect(label).toContain('2 package rows that expand to 512 CPU rows');
    // The table alternative: per package its staging passes with times, per group of CPUs the stop window.
    const details = /<details class="timeline-table" data-testid="timeline-table">(.*?)<\/details>/s.exec(
      html,
    )![1]!;
    expect(details).toContain('<summary>Timeline as a table</summary>');
    const passRows = /data-testid="timeline-table-passes">.*?<tbody>(.*?)<\/tbody>/s.exec(details)![1]!;
    const pass0 = r.staging.packages[0]!;
    expect(passRows.match(/<tr>/g)!.length).toBe(r.staging.packages.length);
    expect(passRows).toContain(
      `<td>0</td><td>1</td><td>0</td><td>+${ms3(pass0.startNs - r.reload.startNs)}</td><td>+${ms3(pass0.endNs - r.reload.startNs)}</td><td>${ms3(pass0.endNs - pass0.startNs)}</td>`,
    );
    const stopRows = /data-testid="timeline-table-stop">.*?<tbody>(.*?)<\/tbody>/s.exec(details)![1]!;
    // Two packages: primary threads and SMT siblings each (no CPU offline).
    expect(stopRows.match(/<tr>/g)!.length).toBe(4);
    expect(stopRows).toContain('<td>0</td><td>primary threads</td><td>128</td>');
    expect(stopRows).toContain('updated 128');
    expect(details).toContain(`${ms3(r.stopWindow!.durationNs)} ms`);

    // A hang has no stop window: the button is there, disabled.
    const hang = renderReport({ results: [run('CPU never arrives (hang)')] });
    expect(hang).toMatch(/data-testid="show-stop-window" disabled/);
    expect(embeddedData(hang).timelines[0]!.stop).toBeNull();
  });

  it('embeds a page script that is self-contained source text', () => {
    const src = reportClient.toString();
    expect(src.startsWith('function reportClient(')).toBe(true);
    // Nothing a bundler or test transform could have injected from outside the function.
    expect(src).not.toMatch(/__vite_ssr|__name\(|\brequire\(|\bimport\b/);
    expect(() => new Function(`return (${src});`)).not.toThrow();
  });
});
