import type { ReportData, ReportHandle, TimelineData, TimelineHandle } from './report-types.js';

/**
 * The report page's script. It is embedded into the HTML as the source text
 * of this function (`reportClient.toString()`), so it must be self-contained:
 * no imports, no module-level values, only types from outside.
 *
 * Each timeline is one <canvas>: rows are the host, one header per package
 * (drawn as the package's aggregate) and, when the package is expanded, one
 * row per CPU. Only visible rows and only spans overlapping the visible time
 * range are drawn; spans narrower than a pixel are merged per pixel column.
 */
export function reportClient(dataElementId: string): void {
  const ROW_H = 16;
  const AXIS_H = 26;
  const GUTTER = 150;
  const SCROLLBAR_W = 8;
  const MAX_CANVAS_H = 560;
  const MIN_SPAN_NS = 1;
  /** The strip under the time axis that carries the highlights' labels (only when there are any). */
  const MARK_H = 18;
  const MARK_COLORS = {
    bad: { line: '#d50000', fill: 'rgba(213,0,0,0.10)', label: '#fdecea', text: '#8e0000' },
    warn: { line: '#ff8f00', fill: 'rgba(255,143,0,0.12)', label: '#fff4e0', text: '#7a4300' },
  };

  const dataEl = document.getElementById(dataElementId);
  if (!dataEl?.textContent) throw new Error('report data missing');
  const data = JSON.parse(dataEl.textContent) as ReportData;
  const styles = data.styles;

  /** Row entries of one sorted span list: start, end, style, span index (or -1), count, prefix max of end. */
  interface SpanList {
    s: Float64Array;
    e: Float64Array;
    k: Uint16Array;
    ref: Int32Array;
    cnt: Int32Array;
    maxEnd: Float64Array;
  }

  function makeList(n: number): SpanList {
    return {
      s: new Float64Array(n),
      e: new Float64Array(n),
      k: new Uint16Array(n),
      ref: new Int32Array(n),
      cnt: new Int32Array(n),
      maxEnd: new Float64Array(n),
    };
  }

  /** Prefix max of span ends over [a, b), so the first span reaching t0 is found by bisection. */
  function fillMaxEnd(list: SpanList, a: number, b: number): void {
    let m = Number.NEGATIVE_INFINITY;
    for (let i = a; i < b; i++) {
      if (list.e[i]! > m) m = list.e[i]!;
      list.maxEnd[i] = m;
    }
  }

  function firstReaching(list: SpanList, a: number, b: number, t: number): number {
    let lo = a;
    let hi = b;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list.maxEnd[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function fmtTime(ns: number, step: number): string {
    const a = Math.abs(step || ns);
    if (a >= 1e8) return `${(ns / 1e9).toFixed(a >= 1e9 ? 0 : 1)} s`;
    if (a >= 1e5) return `${(ns / 1e6).toFixed(a >= 1e6 ? 0 : 1)} ms`;
    if (a >= 1e2) return `${(ns / 1e3).toFixed(a >= 1e3 ? 0 : 1)} us`;
    return `${ns.toFixed(0)} ns`;
  }

  function fmtDuration(ns: number): string {
    const a = Math.abs(ns);
    if (a < 1e3) return `${ns.toFixed(0)} ns`;
    if (a < 1e6) return `${(ns / 1e3).toFixed(3)} us`;
    if (a < 1e9) return `${(ns / 1e6).toFixed(3)} ms`;
    return `${(ns / 1e9).toFixed(6)} s`;
  }

  function niceStep(raw: number): number {
    const p = 10 ** Math.floor(Math.log10(raw));
    const f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }

  function createTimeline(td: TimelineData, ti: number): { handle: TimelineHandle; draw: () => void } {
    const root = document.querySelector<HTMLElement>(`[data-timeline="${ti}"]`);
    if (!root) throw new Error(`timeline ${ti} has no element`);
    const canvas = root.querySelector('canvas')!;
    const wrap = canvas.parentElement!;
    const tooltip = root.querySelector<HTMLElement>('[data-testid="timeline-tooltip"]')!;
    const rangeEl = root.querySelector<HTMLElement>('[data-testid="timeline-range"]');
    const visibleEl = root.querySelector<HTMLElement>('[data-testid="timeline-visible-rows"]');
    const ctx = canvas.getContext('2d', { alpha: false })!;
    const wheelHint = root.querySelector<HTMLElement>('[data-testid="timeline-wheel-hint"]');
    const marks = td.marks;
    /** Top of the rows: below the axis and, when there are highlights, their strip. */
    const TOP = AXIS_H + (marks.length > 0 ? MARK_H : 0);

    const nCpu = td.cpuPkg.length;
    const nSpans = td.k.length;
    const nPkg = td.packages;
    const hostRow = nCpu;

    // Per row (CPUs, then the host) and layer: [off[2r + layer], off[2r + layer + 1]).
    const list = makeList(nSpans);
    const off = new Int32Array((nCpu + 1) * 2 + 1);
    {
      const count = new Int32Array((nCpu + 1) * 2);
      for (let i = 0; i < nSpans; i++) {
        const row = td.c[i]! < 0 ? hostRow : td.c[i]!;
        count[row * 2 + styles[td.k[i]!]!.layer]!++;
      }
      for (let r = 0; r < count.length; r++) off[r + 1] = off[r]! + count[r]!;
      const fill = off.slice(0, count.length);
      for (let i = 0; i < nSpans; i++) {
        const row = td.c[i]! < 0 ? hostRow : td.c[i]!;
        const j = fill[row * 2 + styles[td.k[i]!]!.layer]!++;
        list.s[j] = td.s[i]!;
        list.e[j] = td.s[i]! + Math.max(td.d[i]!, MIN_SPAN_NS);
        list.k[j] = td.k[i]!;
        list.ref[j] = i;
        list.cnt[j] = 1;
      }
      // The embedding is sorted by row, layer, start; keep that order within each range.
      for (let r = 0; r < count.length; r++) fillMaxEnd(list, off[r]!, off[r + 1]!);
    }

    // Package aggregates: per style, the union of the package's CPU spans, with how many spans each covers.
    const cpusOf: number[][] = [];
    for (let p = 0; p < nPkg; p++) cpusOf.push([]);
    for (let cpu = 0; cpu < nCpu; cpu++) cpusOf[td.cpuPkg[cpu]!]!.push(cpu);
    // One range per style, in style order, so later styles (apply) are drawn over earlier ones (waits).
    const agg: SpanList[] = [];
    const aggRanges: number[][] = [];
    for (let p = 0; p < nPkg; p++) {
      const byStyle: { s: number; e: number }[][] = styles.map(() => []);
      for (const cpu of cpusOf[p]!) {
        for (let j = off[cpu * 2]!; j < off[cpu * 2 + 2]!; j++)
          byStyle[list.k[j]!]!.push({ s: list.s[j]!, e: list.e[j]! });
      }
      const merged: { s: number; e: number; k: number; cnt: number }[] = [];
      const ranges: number[] = [];
      for (const layer of [0, 1]) {
        for (let k = 0; k < styles.length; k++) {
          const v = byStyle[k]!;
          if (styles[k]!.layer !== layer || v.length === 0) continue;
          v.sort((x, y) => x.s - y.s);
          const first = merged.length;
          let cur = { s: v[0]!.s, e: v[0]!.e, k, cnt: 1 };
          for (let i = 1; i < v.length; i++) {
            if (v[i]!.s <= cur.e) {
              if (v[i]!.e > cur.e) cur.e = v[i]!.e;
              cur.cnt++;
            } else {
              merged.push(cur);
              cur = { s: v[i]!.s, e: v[i]!.e, k, cnt: 1 };
            }
          }
          merged.push(cur);
          ranges.push(first, merged.length);
        }
      }
      const l = makeList(merged.length);
      merged.forEach((it, j) => {
        l.s[j] = it.s;
        l.e[j] = it.e;
        l.k[j] = it.k;
        l.ref[j] = -1;
        l.cnt[j] = it.cnt;
      });
      for (let r = 0; r < ranges.length; r += 2) fillMaxEnd(l, ranges[r]!, ranges[r + 1]!);
      agg.push(l);
      aggRanges.push(ranges);
    }

    // Rows: 0 host, 1 package header (aggregate), 2 CPU.
    const expanded = td.collapsed.map((c) => !c);
    let rowType = new Uint8Array(0);
    let rowId = new Int32Array(0);
    let rowOfCpu = new Int32Array(nCpu);
    function layoutRows(): void {
      let n = 1 + nPkg;
      for (let p = 0; p < nPkg; p++) if (expanded[p]) n += cpusOf[p]!.length;
      rowType = new Uint8Array(n);
      rowId = new Int32Array(n);
      rowOfCpu = new Int32Array(nCpu).fill(-1);
      let r = 0;
      rowType[r] = 0;
      rowId[r++] = -1;
      for (let p = 0; p < nPkg; p++) {
        rowType[r] = 1;
        rowId[r++] = p;
        if (!expanded[p]) continue;
        for (const cpu of cpusOf[p]!) {
          rowOfCpu[cpu] = r;
          rowType[r] = 2;
          rowId[r++] = cpu;
        }
      }
      for (const b of root!.querySelectorAll<HTMLElement>('[data-testid="group-toggle"]')) {
        const p = Number(b.dataset.pkg);
        b.setAttribute('aria-expanded', String(expanded[p] ?? false));
      }
      if (visibleEl) visibleEl.textContent = String(n - 1 - nPkg);
    }

    // View: relative time range and vertical scroll.
    const pad = Math.max(td.endNs * 0.01, 1000);
    // A state that never ends (panic, hang, endless loop) gets room on the right for its band.
    const openPad = marks.some((m) => m.open) ? Math.max(pad, td.endNs * 0.06) : pad;
    const fit = { t0: -pad, t1: td.endNs + openPad };
    let t0 = fit.t0;
    let t1 = fit.t1;
    let scrollY = 0;
    let cssW = 0;
    let cssH = 0;

    function contentH(): number {
      return rowType.length * ROW_H;
    }
    function plotW(): number {
      return Math.max(10, cssW - GUTTER - SCROLLBAR_W);
    }
    function resize(): void {
      cssW = Math.max(300, wrap.clientWidth);
      cssH = Math.min(MAX_CANVAS_H, TOP + contentH());
      const dpr = window.devicePixelRatio || 1;
      canvas.style.width = `${cssW}px`;
      canvas.style.height = `${cssH}px`;
      const w = Math.round(cssW * dpr);
      const h = Math.round(cssH * dpr);
      if (canvas.width !== w) canvas.width = w;
      if (canvas.height !== h) canvas.height = h;
      clampScroll();
    }
    function clampScroll(): void {
      const maxY = Math.max(0, contentH() - (cssH - TOP));
      scrollY = Math.min(Math.max(0, scrollY), maxY);
    }
    function xOf(t: number): number {
      return GUTTER + ((t - t0) / (t1 - t0)) * plotW();
    }
    function tOf(x: number): number {
      return t0 + ((x - GUTTER) / plotW()) * (t1 - t0);
    }

    function drawList(l: SpanList, a: number, b: number, y: number, h: number, lastPx: Float64Array): void {
      const scale = plotW() / (t1 - t0);
      let i = firstReaching(l, a, b, t0);
      let style = -1;
      for (; i < b; i++) {
        const s = l.s[i]!;
        if (s > t1) break;
        const e = l.e[i]!;
        if (e < t0) continue;
        let x0 = GUTTER + (s - t0) * scale;
        let x1 = GUTTER + (e - t0) * scale;
        if (x0 < GUTTER) x0 = GUTTER;
        if (x1 > GUTTER + plotW()) x1 = GUTTER + plotW();
        const k = l.k[i]!;
        let w = x1 - x0;
        if (w < 1) {
          const px = Math.floor(x0);
          if (lastPx[k] === px) continue;
          lastPx[k] = px;
          x0 = px;
          w = 1;
        } else if (w > 4 && styles[k]!.layer === 1) {
          w -= 1; // a hairline gap shows where back-to-back spans meet
        }
        if (k !== style) {
          style = k;
          ctx.fillStyle = styles[k]!.color;
        }
        ctx.fillRect(x0, y, w, h);
      }
    }

    /** Pixel extent of highlight `m` in the plot, or null when it is out of view. */
    function markExtent(i: number, pw: number): { x0: number; x1: number } | null {
      const m = marks[i]!;
      const right = GUTTER + pw;
      const x0 = xOf(m.s);
      const x1 = m.open ? right : Math.max(xOf(m.e), x0 + 2);
      if (x0 > right || x1 < GUTTER) return null;
      return { x0: Math.max(GUTTER, x0), x1: Math.min(right, x1) };
    }

    /** Highlights over the rows: a tinted band with a solid line where each begins. */
    function drawMarkBands(pw: number): void {
      for (let i = 0; i < marks.length; i++) {
        const ext = markExtent(i, pw);
        if (!ext) continue;
        const c = MARK_COLORS[marks[i]!.severity];
        ctx.fillStyle = c.fill;
        ctx.fillRect(ext.x0, TOP, ext.x1 - ext.x0, cssH - TOP);
        ctx.fillStyle = c.line;
        if (xOf(marks[i]!.s) >= GUTTER) ctx.fillRect(ext.x0, TOP, 2, cssH - TOP);
        if (!marks[i]!.open && xOf(marks[i]!.e) <= GUTTER + pw) ctx.fillRect(ext.x1 - 1, TOP, 1, cssH - TOP);
      }
    }

    /** The strip under the axis: each highlight's extent and its label, left to right, none overlapping. */
    function drawMarkLabels(pw: number): void {
      if (marks.length === 0) return;
      const y = AXIS_H;
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, y, cssW, MARK_H);
      ctx.fillStyle = '#666';
      ctx.font = '11px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      ctx.fillText('highlights', 6, y + MARK_H / 2, GUTTER - 10);
      const order = marks.map((_, i) => i).sort((a, b) => marks[a]!.s - marks[b]!.s);
      let freeX = GUTTER;
      for (const i of order) {
        const ext = markExtent(i, pw);
        if (!ext) continue;
        const m = marks[i]!;
        const c = MARK_COLORS[m.severity];
        ctx.fillStyle = c.line;
        ctx.fillRect(ext.x0, y + MARK_H - 4, Math.max(2, ext.x1 - ext.x0), 3);
        let text = m.open ? `${m.label} \u2192` : m.label;
        const right = GUTTER + pw;
        // Start the label at the band; near the right edge, end it there instead.
        const x = Math.max(freeX, Math.min(ext.x0, right - ctx.measureText(text).width - 8));
        const avail = right - x - 8;
        if (avail < 30) continue;
        if (ctx.measureText(text).width > avail) {
          while (text.length > 2 && ctx.measureText(`${text}\u2026`).width > avail) text = text.slice(0, -1);
          text = `${text}\u2026`;
        }
        const w = ctx.measureText(text).width + 8;
        ctx.fillStyle = c.label;
        ctx.fillRect(x, y + 1, w, MARK_H - 6);
        ctx.fillStyle = c.text;
        ctx.fillText(text, x + 4, y + (MARK_H - 4) / 2);
        freeX = x + w + 6;
      }
    }

    function draw(): void {
      const dpr = window.devicePixelRatio || 1;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, cssW, cssH);
      const pw = plotW();
      const first = Math.floor(scrollY / ROW_H);
      const last = Math.min(rowType.length - 1, Math.floor((scrollY + cssH - TOP) / ROW_H));
      const lastPx = new Float64Array(styles.length);

      ctx.save();
      ctx.beginPath();
      ctx.rect(0, TOP, cssW, cssH - TOP);
      ctx.clip();
      ctx.font = '11px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      for (let r = first; r <= last; r++) {
        const y = TOP + r * ROW_H - scrollY;
        const type = rowType[r]!;
        const id = rowId[r]!;
        if (type !== 2) {
          ctx.fillStyle = type === 0 ? '#eef1f6' : '#f4f4f4';
          ctx.fillRect(0, y, cssW, ROW_H);
        } else if (r % 2 === 0) {
          ctx.fillStyle = '#fafafa';
          ctx.fillRect(GUTTER, y, pw, ROW_H);
        }
        ctx.fillStyle = '#333';
        let label: string;
        if (type === 0) label = 'host';
        else if (type === 1)
          label = `${expanded[id] ? '\u25BE' : '\u25B8'} package ${id} (${cpusOf[id]!.length} CPUs)`;
        else
          label = `    CPU ${id}${td.cpuOnline[id] ? '' : ' (offline)'}${td.cpuPrimary[id] ? '' : ' \u00B7'}`;
        ctx.fillText(label, 6, y + ROW_H / 2, GUTTER - 10);

        ctx.save();
        ctx.beginPath();
        ctx.rect(GUTTER, y, pw, ROW_H);
        ctx.clip();
        lastPx.fill(-1);
        if (type === 1) {
          const l = agg[id]!;
          const ranges = aggRanges[id]!;
          for (let q = 0; q < ranges.length; q += 2) {
            const container = styles[l.k[ranges[q]!]!]!.layer === 0;
            drawList(
              l,
              ranges[q]!,
              ranges[q + 1]!,
              container ? y + 1 : y + 3,
              container ? ROW_H - 2 : ROW_H - 6,
              lastPx,
            );
          }
        } else {
          const row = type === 0 ? hostRow : id;
          drawList(list, off[row * 2]!, off[row * 2 + 1]!, y + 1, ROW_H - 2, lastPx);
          lastPx.fill(-1);
          drawList(list, off[row * 2 + 1]!, off[row * 2 + 2]!, y + 3, ROW_H - 6, lastPx);
        }
        ctx.restore();
      }
      drawMarkBands(pw);
      ctx.restore();

      // Time axis.
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, cssW, AXIS_H);
      ctx.strokeStyle = '#999';
      ctx.beginPath();
      ctx.moveTo(GUTTER, AXIS_H - 0.5);
      ctx.lineTo(GUTTER + pw, AXIS_H - 0.5);
      ctx.stroke();
      const step = niceStep((t1 - t0) / Math.max(2, pw / 110));
      ctx.fillStyle = '#444';
      ctx.font = '11px system-ui, sans-serif';
      ctx.textBaseline = 'alphabetic';
      ctx.strokeStyle = 'rgba(0,0,0,0.08)';
      for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
        const x = Math.round(xOf(t)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, AXIS_H - 6);
        ctx.lineTo(x, cssH);
        ctx.stroke();
        ctx.fillText(fmtTime(t, step), x + 3, AXIS_H - 9);
      }
      ctx.fillStyle = '#666';
      ctx.fillText('time since the reload write', 6, AXIS_H - 9, GUTTER - 10);
      drawMarkLabels(pw);

      // Vertical scrollbar.
      const ch = contentH();
      const viewH = cssH - TOP;
      if (ch > viewH) {
        const barH = Math.max(20, (viewH * viewH) / ch);
        const barY = TOP + (scrollY / (ch - viewH)) * (viewH - barH);
        ctx.fillStyle = '#ddd';
        ctx.fillRect(cssW - SCROLLBAR_W, TOP, SCROLLBAR_W, viewH);
        ctx.fillStyle = '#999';
        ctx.fillRect(cssW - SCROLLBAR_W + 1, barY, SCROLLBAR_W - 2, barH);
      }
      if (rangeEl) {
        rangeEl.dataset.t0 = String(t0);
        rangeEl.dataset.t1 = String(t1);
        rangeEl.textContent = `${fmtDuration(t0)} .. ${fmtDuration(t1)} (${fmtDuration(t1 - t0)} wide)`;
      }
    }

    let pending = false;
    function invalidate(): void {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        draw();
      });
    }

    function zoom(factor: number, atX: number): void {
      const tc = tOf(atX);
      const minW = 100; // ns
      const maxW = (fit.t1 - fit.t0) * 4;
      let w = (t1 - t0) * factor;
      w = Math.min(maxW, Math.max(minW, w));
      const frac = (atX - GUTTER) / plotW();
      t0 = tc - frac * w;
      t1 = t0 + w;
      invalidate();
    }

    function pan(dt: number): void {
      t0 += dt;
      t1 += dt;
      invalidate();
    }

    function scrollRows(dy: number): void {
      scrollY += dy;
      clampScroll();
      invalidate();
    }

    function showRange(a: number, b: number): void {
      if (!(b > a)) return;
      const w = Math.max(100, b - a);
      const mid = (a + b) / 2;
      t0 = mid - w / 2;
      t1 = mid + w / 2;
      hideTooltip();
      invalidate();
    }

    function showStopWindow(): boolean {
      const sw = td.stop;
      if (!sw) return false;
      const m = Math.max((sw.e - sw.s) * 0.15, 1000);
      showRange(sw.s - m, sw.e + m);
      return true;
    }

    function showMark(i: number): boolean {
      const m = marks[i];
      if (!m) return false;
      if (m.open) {
        // What led to it, and the state that never ends, up to the right edge.
        const before = Math.max((fit.t1 - m.s) * 0.25, td.endNs * 0.02, 1000);
        showRange(m.s - before, Math.max(fit.t1, m.s + before));
      } else {
        const margin = Math.max((m.e - m.s) * 0.15, 1000);
        showRange(m.s - margin, m.e + margin);
      }
      return true;
    }

    function setExpanded(pkg: number, value: boolean): void {
      if (pkg < 0 || pkg >= nPkg) return;
      expanded[pkg] = value;
      layoutRows();
      resize();
      draw();
    }

    // Hit testing for the tooltip.
    function hitList(l: SpanList, a: number, b: number, t: number, tol: number): number {
      let best = -1;
      for (let i = firstReaching(l, a, b, t - tol); i < b; i++) {
        if (l.s[i]! > t + tol) break;
        if (l.e[i]! >= t - tol) {
          best = i;
          if (l.s[i]! <= t && l.e[i]! >= t) return i;
        }
      }
      return best;
    }

    function describe(x: number, y: number): string | null {
      if (x < GUTTER || y < AXIS_H) return null;
      if (y < TOP) {
        const pw = plotW();
        const hits: string[] = [];
        for (let i = 0; i < marks.length; i++) {
          const ext = markExtent(i, pw);
          if (!ext || x < ext.x0 - 3 || x > ext.x1 + 3) continue;
          const m = marks[i]!;
          hits.push(
            `${m.label}\n${m.open ? `from ${fmtDuration(m.s)}, never ends` : `from ${fmtDuration(m.s)} to ${fmtDuration(m.e)} (${fmtDuration(m.e - m.s)})`}`,
          );
        }
        return hits.length > 0 ? hits.join('\n\n') : null;
      }
      const r = Math.floor((y - TOP + scrollY) / ROW_H);
      if (r < 0 || r >= rowType.length) return null;
      const t = tOf(x);
      const tol = (3 * (t1 - t0)) / plotW();
      const type = rowType[r]!;
      const id = rowId[r]!;
      if (type === 1) {
        const l = agg[id]!;
        const ranges = aggRanges[id]!;
        let i = -1;
        // Topmost first: the reverse of the drawing order.
        for (let q = ranges.length - 2; q >= 0 && i < 0; q -= 2)
          i = hitList(l, ranges[q]!, ranges[q + 1]!, t, tol);
        if (i < 0) return null;
        return [
          `package ${id}: ${styles[l.k[i]!]!.label}`,
          `${l.cnt[i]} span${l.cnt[i] === 1 ? '' : 's'} merged`,
          `from ${fmtDuration(l.s[i]!)} to ${fmtDuration(l.e[i]!)}`,
          `duration ${fmtDuration(l.e[i]! - l.s[i]!)}`,
        ].join('\n');
      }
      const row = type === 0 ? hostRow : id;
      let i = hitList(list, off[row * 2 + 1]!, off[row * 2 + 2]!, t, tol);
      if (i < 0) i = hitList(list, off[row * 2]!, off[row * 2 + 1]!, t, tol);
      if (i < 0) return null;
      const si = list.ref[i]!;
      const lines = [
        td.strings[td.n[si]!]!,
        `category: ${styles[td.k[si]!]!.label}`,
        td.c[si]! < 0 ? 'host' : `CPU ${td.c[si]} (package ${td.cpuPkg[td.c[si]!]})`,
        `start: +${fmtDuration(td.s[si]!)} (${((td.originNs + td.s[si]!) / 1e9).toFixed(9)} s since boot)`,
        `duration: ${fmtDuration(td.d[si]!)}`,
      ];
      const ai = td.a[si]!;
      if (ai >= 0) {
        const args = JSON.parse(td.strings[ai]!) as Record<string, string | number | boolean>;
        for (const key of Object.keys(args)) lines.push(`${key}: ${String(args[key])}`);
      }
      return lines.join('\n');
    }

    function hideTooltip(): void {
      tooltip.hidden = true;
    }

    function showTooltip(text: string, x: number, y: number): void {
      tooltip.textContent = text;
      tooltip.hidden = false;
      const w = tooltip.offsetWidth;
      const left = x + 14 + w > cssW ? Math.max(0, x - 14 - w) : x + 14;
      tooltip.style.left = `${left}px`;
      tooltip.style.top = `${y + 14}px`;
    }

    // Pointer: drag pans (time and rows), a click on a package row toggles it, wheel zooms.
    let drag: { x: number; y: number; t0: number; t1: number; scrollY: number; moved: boolean } | null = null;
    function local(ev: MouseEvent): { x: number; y: number } {
      const rect = canvas.getBoundingClientRect();
      return { x: ev.clientX - rect.left, y: ev.clientY - rect.top };
    }
    canvas.addEventListener('mousedown', (ev) => {
      const p = local(ev);
      drag = { x: p.x, y: p.y, t0, t1, scrollY, moved: false };
      // No text selection while dragging; the click still puts the focus here (the wheel then zooms).
      ev.preventDefault();
      canvas.focus({ preventScroll: true });
    });
    window.addEventListener('mousemove', (ev) => {
      if (!drag) return;
      const p = local(ev);
      const dx = p.x - drag.x;
      const dy = p.y - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (!drag.moved) return;
      const dt = (dx / plotW()) * (drag.t1 - drag.t0);
      t0 = drag.t0 - dt;
      t1 = drag.t1 - dt;
      scrollY = drag.scrollY - dy;
      clampScroll();
      hideTooltip();
      invalidate();
    });
    window.addEventListener('mouseup', (ev) => {
      if (!drag) return;
      const wasClick = !drag.moved;
      drag = null;
      if (!wasClick) return;
      const p = local(ev);
      if (p.y < TOP) return;
      const r = Math.floor((p.y - TOP + scrollY) / ROW_H);
      if (rowType[r] === 1) setExpanded(rowId[r]!, !expanded[rowId[r]!]);
    });
    canvas.addEventListener('mousemove', (ev) => {
      if (drag?.moved) return;
      const p = local(ev);
      const text = describe(p.x, p.y);
      if (text) showTooltip(text, p.x, p.y);
      else hideTooltip();
    });
    canvas.addEventListener('mouseleave', hideTooltip);
    // The wheel scrolls the page, unless a modifier is held over the timeline (Ctrl or Meta
    // zooms, Shift pans) or the timeline has the focus (a click or Tab into it: the wheel
    // zooms, Shift pans, Alt scrolls rows).
    let hintTimer = 0;
    function flashWheelHint(): void {
      if (!wheelHint) return;
      wheelHint.hidden = false;
      window.clearTimeout(hintTimer);
      hintTimer = window.setTimeout(() => {
        wheelHint.hidden = true;
      }, 1500);
    }
    canvas.addEventListener(
      'wheel',
      (ev) => {
        const zoomKey = ev.ctrlKey || ev.metaKey;
        const focused = document.activeElement === canvas;
        if (!zoomKey && !ev.shiftKey && !focused) {
          flashWheelHint();
          return;
        }
        ev.preventDefault();
        hideTooltip();
        const unit = ev.deltaMode === 1 ? 30 : ev.deltaMode === 2 ? 300 : 1;
        const dx = ev.deltaX * unit;
        const dy = ev.deltaY * unit;
        if (!zoomKey && ev.shiftKey) {
          pan(((dx !== 0 ? dx : dy) / plotW()) * (t1 - t0));
          return;
        }
        if (!zoomKey && ev.altKey) {
          scrollRows(dy !== 0 ? dy : dx);
          return;
        }
        if (!zoomKey && Math.abs(dx) > Math.abs(dy)) {
          pan((dx / plotW()) * (t1 - t0));
          return;
        }
        const p = local(ev);
        zoom(Math.exp(dy * 0.0015), Math.max(GUTTER, p.x));
      },
      { passive: false },
    );

    // Keys while the timeline has the focus.
    canvas.addEventListener('keydown', (ev) => {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const mid = GUTTER + plotW() / 2;
      const step = (ev.shiftKey ? 0.5 : 0.1) * (t1 - t0);
      const page = Math.max(ROW_H, cssH - TOP - ROW_H);
      switch (ev.key) {
        case '+':
        case '=':
          zoom(0.5, mid);
          break;
        case '-':
        case '_':
        case '\u2212':
          zoom(2, mid);
          break;
        case 'ArrowLeft':
          pan(-step);
          break;
        case 'ArrowRight':
          pan(step);
          break;
        case 'ArrowUp':
          scrollRows(-3 * ROW_H);
          break;
        case 'ArrowDown':
          scrollRows(3 * ROW_H);
          break;
        case 'PageUp':
          scrollRows(-page);
          break;
        case 'PageDown':
          scrollRows(page);
          break;
        case '0':
        case 'Home':
          t0 = fit.t0;
          t1 = fit.t1;
          invalidate();
          break;
        case 's':
        case 'S':
          showStopWindow();
          break;
        case 'Escape':
          canvas.blur();
          break;
        default:
          return;
      }
      ev.preventDefault();
      hideTooltip();
    });

    for (const b of root.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
      b.addEventListener('click', () => {
        const mid = GUTTER + plotW() / 2;
        switch (b.dataset.action) {
          case 'zoom-in':
            zoom(0.5, mid);
            break;
          case 'zoom-out':
            zoom(2, mid);
            break;
          case 'fit':
            t0 = fit.t0;
            t1 = fit.t1;
            invalidate();
            break;
          case 'stop-window':
            showStopWindow();
            break;
          case 'expand-all':
          case 'collapse-all':
            for (let p = 0; p < nPkg; p++) expanded[p] = b.dataset.action === 'expand-all';
            layoutRows();
            resize();
            draw();
            break;
        }
      });
    }
    for (const b of root.querySelectorAll<HTMLButtonElement>('[data-testid="group-toggle"]')) {
      b.addEventListener('click', () => {
        const p = Number(b.dataset.pkg);
        setExpanded(p, !expanded[p]);
      });
    }
    if (typeof ResizeObserver === 'function') {
      let lastW = -1;
      new ResizeObserver(() => {
        if (wrap.clientWidth === lastW) return;
        lastW = wrap.clientWidth;
        resize();
        invalidate();
      }).observe(wrap);
    }

    layoutRows();
    resize();

    const handle: TimelineHandle = {
      rows: nCpu,
      spans: nSpans,
      visibleRows: () => rowType.length - 1 - nPkg,
      view: () => ({ t0, t1 }),
      pointFor(cpu: number, tNs: number) {
        const r = rowOfCpu[cpu] ?? -1;
        if (r < 0 || tNs < t0 || tNs > t1) return null;
        const y = TOP + r * ROW_H - scrollY + ROW_H / 2;
        if (y < TOP || y > cssH) return null;
        const rect = canvas.getBoundingClientRect();
        return { x: rect.left + xOf(tNs), y: rect.top + y };
      },
      setExpanded,
      setView(a: number, b: number) {
        if (!(b > a)) return;
        t0 = a;
        t1 = b;
        draw();
      },
      showStopWindow,
      showMark,
      marks: () => marks.map((m) => ({ kind: m.kind, label: m.label, s: m.s, e: m.e, open: m.open })),
    };
    return { handle, draw };
  }

  const views = data.timelines.map((td, i) => createTimeline(td, i));
  for (const v of views) v.draw();
  // The header cards' "show on timeline" buttons.
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-show-mark]')) {
    b.addEventListener('click', () => {
      const ti = Number(b.dataset.showTimeline);
      const view = views[ti];
      if (!view?.handle.showMark(Number(b.dataset.showMark))) return;
      document.querySelector(`[data-timeline="${ti}"]`)?.scrollIntoView({ block: 'nearest' });
    });
  }
  requestAnimationFrame(() => {
    // The frame with the first drawing has been presented once this runs.
    requestAnimationFrame(() => {
      const handle: ReportHandle = {
        ready: true,
        rows: views.reduce((n, v) => n + v.handle.rows, 0),
        spans: views.reduce((n, v) => n + v.handle.spans, 0),
        readyMs: performance.now(),
        timelines: views.map((v) => v.handle),
      };
      (window as unknown as { __report: ReportHandle }).__report = handle;
      document.documentElement.dataset.ready = 'true';
    });
  });
}
