/** Spans and counters a run records for the exporters (Chrome trace, HTML timeline). */
export type SpanCategory =
  | 'reload'
  | 'staging'
  | 'transaction'
  | 'stop_machine'
  | 'rendezvous'
  | 'apply'
  | 'wait_primary'
  | 'offline_kick';

export interface TraceSpan {
  name: string;
  cat: SpanCategory;
  cpu: number;
  startNs: number;
  endNs: number;
  args?: Record<string, string | number | boolean>;
}

export interface TraceCounter {
  name: string;
  pkg: number;
  timeNs: number;
  value: number;
}

export class Tracer {
  readonly spans: TraceSpan[] = [];
  readonly counters: TraceCounter[] = [];

  constructor(readonly enabled: boolean) {}

  span(
    cat: SpanCategory,
    name: string,
    cpu: number,
    startNs: number,
    endNs: number,
    args?: TraceSpan['args'],
  ): void {
    if (!this.enabled) return;
    const s: TraceSpan = { name, cat, cpu, startNs, endNs };
    if (args) s.args = args;
    this.spans.push(s);
  }

  counter(name: string, pkg: number, timeNs: number, value: number): void {
    if (this.enabled) this.counters.push({ name, pkg, timeNs, value });
  }
}
