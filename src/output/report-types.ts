/**
 * The data the HTML report embeds (one JSON script element) and its page
 * script reads. Columnar arrays keep 100,000 spans to a few numbers each.
 */
export interface ReportData {
  v: 1;
  styles: ReportStyle[];
  timelines: TimelineData[];
}

export interface ReportStyle {
  key: string;
  label: string;
  color: string;
  /** 0: drawn full row height, lighter, underneath (reload, staging pass, stop_machine); 1: inset on top. */
  layer: 0 | 1;
}

export interface TimelineData {
  label: string;
  /** Absolute virtual time (ns since boot) of time 0: the reload write. */
  originNs: number;
  /** Relative end of the interesting range (ns). */
  endNs: number;
  /** The stop window, relative (ns), or null when the CPUs were never stopped or never resumed. */
  stop: { s: number; e: number } | null;
  /** What went wrong or needs a look, drawn as bands in a warning colour with a label (see `TimelineMark`). */
  marks: TimelineMark[];
  packages: number;
  /** Package of each CPU. */
  cpuPkg: number[];
  /** 1 when the CPU was online. */
  cpuOnline: number[];
  /** 1 for SMT primary threads. */
  cpuPrimary: number[];
  /** Initial state of each package group. */
  collapsed: boolean[];
  /** Interned strings: span names and args (JSON text). */
  strings: string[];
  /**
   * Spans, columnar, sorted by row (host row first, then CPU number), layer, start.
   * k: style index; c: CPU (-1: the host row); s: start (ns from originNs); d: duration (ns);
   * n: name (string index); a: args (string index of a JSON object, -1 for none).
   */
  k: number[];
  c: number[];
  s: number[];
  d: number[];
  n: number[];
  a: number[];
}

/**
 * A highlight on the timeline: a staging failure, re-sends, a panic, a hang or
 * a loop that never ends. The header card says the same in words.
 */
export interface TimelineMark {
  kind: HighlightKind;
  /** 'bad': red (failed, panicked, never returns); 'warn': amber (went on, but look). */
  severity: 'bad' | 'warn';
  /** Short text drawn on the timeline. */
  label: string;
  /** Start and end, relative ns. */
  s: number;
  e: number;
  /** The state never ends (panic, hang, endless loop): the band runs to the right edge. */
  open: boolean;
}

export type HighlightKind =
  | 'staging-failed'
  | 'resends'
  | 'load-failed'
  | 'panic'
  | 'hang'
  | 'does-not-terminate';

/** What the page publishes on `window.__report` once it has painted. */
export interface ReportHandle {
  ready: boolean;
  /** CPU rows over all timelines with every group expanded. */
  rows: number;
  /** Spans embedded over all timelines. */
  spans: number;
  /** performance.now() when the first paint was done. */
  readyMs: number;
  timelines: TimelineHandle[];
}

export interface TimelineHandle {
  rows: number;
  spans: number;
  visibleRows(): number;
  /** Visible time range, ns relative to the reload write. */
  view(): { t0: number; t1: number };
  /** Viewport coordinates of CPU `cpu`'s row at relative time `tNs`, or null when not on screen. */
  pointFor(cpu: number, tNs: number): { x: number; y: number } | null;
  setExpanded(pkg: number, expanded: boolean): void;
  /** Show the relative time range [t0, t1] (ns). */
  setView(t0: number, t1: number): void;
  /** Zoom to the stop window (with a margin); false when the run has none. */
  showStopWindow(): boolean;
  /** Zoom to highlight `i` (see `TimelineData.marks`); false when there is no such mark. */
  showMark(i: number): boolean;
  /** The highlights drawn, as the data gives them. */
  marks(): { kind: string; label: string; s: number; e: number; open: boolean }[];
}
