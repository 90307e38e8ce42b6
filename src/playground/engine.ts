import {
  type ComparePoint,
  compare,
  format,
  formatSummary,
  MemoryFirmware,
  printable,
  renderReport,
  resolveMachine,
  type SimulateOptions,
  SimulationInputError,
  type SimulationResult,
  simulate,
} from '../index.js';
import { parseRun } from './args.js';

// What the playground's worker does, as plain functions of a request (the page calls them
// directly when it cannot start a worker). Answers are strings and small records: the page
// only puts them on screen.

export interface RunRequest {
  type: 'run' | 'compare';
  id: number;
  argv: string[];
}

export interface FirmwareMessage {
  type: 'firmware';
  name: string;
  bytes: Uint8Array;
}

export type WorkerRequest = RunRequest | FirmwareMessage;

export interface PassRow {
  pkg: number;
  cpu: number;
  mailboxPa: number;
  bytesSent: number;
  chunks: number;
  resends: number;
  polls: number;
  ns: number;
  errno: number;
}

export interface RunAnswer {
  type: 'run';
  id: number;
  ok: true;
  /** The CLI's first line: `ucode-staging: machine gnr-2s (512 CPUs), image: synthetic`. */
  header: string;
  dmesg: string;
  summary: string;
  figures: {
    machine: string;
    cpus: number;
    outcome: string;
    returnCode: number;
    stopWindowNs: number | null;
    stagingAttempted: boolean;
    stagingOk: boolean;
    stagingErrno: string;
    stagingNs: number;
    reloadNs: number;
    revisionOld: number;
    revisionNew: number;
    panic: string | null;
  };
  passes: PassRow[];
  /** The HTML report of the run, for the timeline frame. */
  reportHtml: string;
  ms: { simulate: number; render: number };
}

export interface CompareAnswer {
  type: 'compare';
  id: number;
  ok: true;
  point: ComparePoint;
  onPolicy: string;
  reportHtml: string;
  ms: { compare: number; render: number };
}

export interface ErrorAnswer {
  type: 'run' | 'compare';
  id: number;
  ok: false;
  error: string;
}

export interface ProgressAnswer {
  type: 'progress';
  id: number;
  done: number;
  planned: number;
}

export type WorkerAnswer = RunAnswer | CompareAnswer | ErrorAnswer | ProgressAnswer;

/** The dropped microcode files, by name. */
export type FileStore = Map<string, Uint8Array>;

/** The timeline frame shows only what the page does not show itself. */
const TIMELINE_ONLY = `<style>header, .cards, .cost, pre.dmesg, h3:has(+ pre.dmesg), h3:has(+ table.num), table.num { display: none !important; } body { padding: 4px 8px 8px; }</style>`;
const COMPARE_VIEW = `<style>header, .cost, pre.dmesg, h3:has(+ pre.dmesg), h3:has(+ table.num), table.num { display: none !important; } body { padding: 4px 8px 8px; }</style>`;

function withStyle(html: string, style: string): string {
  const at = html.indexOf('</head>');
  return at < 0 ? html : `${html.slice(0, at)}${style}${html.slice(at)}`;
}

function optionsFor(argv: readonly string[], files: FileStore): { options: SimulateOptions; image: string } {
  const run = parseRun(argv);
  if (run.firmwareName === undefined) return { options: run.options, image: 'synthetic' };
  const bytes = files.get(run.firmwareName);
  if (bytes === undefined)
    throw new SimulationInputError(
      `this run uses the microcode file '${printable(run.firmwareName)}': drop it on the page to run it`,
    );
  // As the CLI's `-f FILE`: installed under the CPU's own name, described by the file's name.
  const fileName = format.fmsFileName(resolveMachine(run.options.machine, run.options).signature);
  const firmware = new MemoryFirmware(new Map([[`intel-ucode/${fileName}`, bytes]]), run.firmwareName);
  return { options: { ...run.options, firmware }, image: run.firmwareName };
}

/** An error as one line, as the CLI would say it. */
export function errorText(err: unknown): string {
  if (err instanceof SimulationInputError) return err.message;
  if (err instanceof Error && err.name === 'SimulationLimitError')
    return `the run did not finish: ${err.message.split('\n')[0]}`;
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return `internal error: ${msg.split('\n')[0]}`;
}

export function runOnce(
  req: RunRequest,
  files: FileStore,
  onProgress?: (done: number, planned: number) => void,
): RunAnswer | ErrorAnswer {
  try {
    const { options, image } = optionsFor(req.argv, files);
    const t0 = performance.now();
    const result = simulate({
      ...options,
      ...(onProgress
        ? { onStagingProgress: (done: number, planned: number) => onProgress(done, planned) }
        : {}),
    });
    const t1 = performance.now();
    const answer = describe(req.id, result, image);
    answer.ms = { simulate: t1 - t0, render: performance.now() - t1 };
    return answer;
  } catch (err) {
    return { type: 'run', id: req.id, ok: false, error: errorText(err) };
  }
}

function describe(id: number, r: SimulationResult, image: string): RunAnswer {
  return {
    type: 'run',
    id,
    ok: true,
    header: `ucode-staging: machine ${r.machine.name} (${r.machine.cpus} CPUs), image: ${printable(image)}`,
    dmesg: r.dmesg,
    summary: formatSummary(r),
    figures: {
      machine: r.machine.name,
      cpus: r.machine.cpus,
      outcome: r.outcome,
      returnCode: r.returnCode,
      stopWindowNs: r.stopWindow?.durationNs ?? null,
      stagingAttempted: r.staging.attempted,
      stagingOk: r.staging.ok,
      stagingErrno: r.staging.errnoName,
      stagingNs: r.staging.durationNs,
      reloadNs: r.reload.durationNs,
      revisionOld: r.revision.old,
      revisionNew: r.revision.new,
      panic: r.panicMessage,
    },
    passes: r.staging.packages.map((p) => ({
      pkg: p.pkg,
      cpu: p.cpu,
      mailboxPa: p.mailboxPa,
      bytesSent: p.bytesSent,
      chunks: p.chunks,
      resends: p.resends,
      polls: p.polls,
      ns: p.endNs - p.startNs,
      errno: p.errno,
    })),
    reportHtml: withStyle(renderReport({ results: [r] }), TIMELINE_ONLY),
    ms: { simulate: 0, render: 0 },
  };
}

export function compareOnce(req: RunRequest, files: FileStore): CompareAnswer | ErrorAnswer {
  try {
    const { options } = optionsFor(req.argv, files);
    const t0 = performance.now();
    const report = compare(options);
    const t1 = performance.now();
    const kept = report.kept[0]!;
    const html = renderReport({
      results: [kept.off, kept.on],
      labels: ['staging off', `staging ${kept.onPolicy}`],
      title: 'Staging off vs on',
    });
    return {
      type: 'compare',
      id: req.id,
      ok: true,
      point: report.points[0]!,
      onPolicy: kept.onPolicy,
      reportHtml: withStyle(html, COMPARE_VIEW),
      ms: { compare: t1 - t0, render: performance.now() - t1 },
    };
  } catch (err) {
    return { type: 'compare', id: req.id, ok: false, error: errorText(err) };
  }
}
