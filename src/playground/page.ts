import {
  BUDGETS,
  CPU_FAULT_KINDS,
  DEDUPES,
  DEFAULT_PRESET,
  DEVICE_FAULT_KINDS,
  DEVICE_PROFILE_KINDS,
  format,
  HZ_VALUES,
  KERNEL_GENERATIONS,
  machineSpecInput,
  POLLS,
  PRESETS,
  printable,
  RUN_OPTIONS,
  STAGING_MODES,
} from '../index.js';
import { argvOfHash, cliCommand, hashOf, type ParsedRun, parseRun, parseRunArgv, runArgs } from './args.js';
import type { CompareAnswer, RunAnswer, RunRequest, WorkerAnswer, WorkerRequest } from './engine.js';
import { EXAMPLES } from './examples.js';

// The playground page: controls ⇄ the run's flags (the URL hash), runs in a Web Worker, and
// the answers put on screen. No network: everything is in this folder, and a dropped file
// is read locally.

/** What tests (and the curious) can read: the last run shown and how long it took. */
export interface PlaygroundHandle {
  ready: boolean;
  /** Id of the last run requested, shown, and compared. */
  requested: number;
  shown: number;
  compared: number;
  lastRun: {
    id: number;
    argv: string[];
    /** From the control's event to the run's text on screen. */
    totalMs: number;
    /** From the control's event to the timeline frame loaded. */
    frameMs: number;
    simulateMs: number;
    renderMs: number;
    stopWindowNs: number | null;
    outcome: string;
  } | null;
  runs: number[];
}

declare global {
  interface Window {
    __playground: PlaygroundHandle;
  }
}

const handle: PlaygroundHandle = {
  ready: false,
  requested: 0,
  shown: 0,
  compared: 0,
  lastRun: null,
  runs: [],
};
window.__playground = handle;

const $ = <T extends Element>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`playground: ${sel} is missing`);
  return el;
};
const form = $<HTMLFormElement>('#controls');
const field = <T extends HTMLElement = HTMLInputElement>(name: string): T =>
  $<T>(`#controls [name="${name}"]`);

const MAX_FILE_BYTES = 64 << 20;
const files = new Map<string, Uint8Array>();
let currentFile: string | undefined;
/** A machine object from a link or a CLI machine file that the shape controls cannot show. */
let machineRaw: string | undefined;

// ---- controls ----

function fillSelect(name: string, values: readonly (string | number)[], dflt?: string): void {
  const sel = field<HTMLSelectElement>(name);
  sel.replaceChildren();
  if (dflt !== undefined) sel.append(new Option(`${dflt} (default)`, ''));
  for (const v of values) if (String(v) !== dflt) sel.append(new Option(String(v), String(v)));
}

const defaultOf = (name: string): string => RUN_OPTIONS.find((o) => o.name === name)?.default ?? '';

function setupControls(): void {
  const machine = field<HTMLSelectElement>('machine');
  for (const name of Object.keys(PRESETS)) {
    const p = PRESETS[name]!;
    const label = `${name}${name === DEFAULT_PRESET ? ' (default)' : ''}: ${p.packages} x ${p.coresPerPackage} x ${p.threadsPerCore}`;
    machine.append(new Option(label, name === DEFAULT_PRESET ? '' : name));
  }
  machine.append(new Option('custom shape…', 'custom'));
  fillSelect('shape-base', Object.keys(PRESETS));
  fillSelect('hz', HZ_VALUES, defaultOf('hz'));
  fillSelect('kernel', KERNEL_GENERATIONS, defaultOf('kernel'));
  fillSelect('staging', STAGING_MODES, defaultOf('staging'));
  fillSelect('budget', BUDGETS, defaultOf('budget'));
  fillSelect('dedupe', DEDUPES, defaultOf('dedupe'));
  fillSelect('poll', POLLS, defaultOf('poll'));
  fillSelect('cpufault-kind', CPU_FAULT_KINDS);
  fillSelect('helper-kind', DEVICE_FAULT_KINDS);
  fillSelect('helper-profile', DEVICE_PROFILE_KINDS);
  setShapeFrom(DEFAULT_PRESET);
}

function setShapeFrom(base: string, m: Record<string, unknown> = {}): void {
  const preset = { ...PRESETS[base], ...m } as Record<string, unknown>;
  const numbering = (preset.numbering ?? {}) as { packages?: string; smt?: string };
  field<HTMLSelectElement>('shape-base').value = base;
  field('shape-packages').value = String(preset.packages ?? 1);
  field('shape-cores').value = String(preset.coresPerPackage ?? 1);
  field<HTMLSelectElement>('shape-threads').value = String(preset.threadsPerCore ?? 1);
  field<HTMLSelectElement>('shape-numbering').value = numbering.packages ?? 'package-major';
  field<HTMLSelectElement>('shape-smt').value = numbering.smt ?? 'last';
}

function packagesNow(): number {
  try {
    const v = field<HTMLSelectElement>('machine').value;
    if (v === 'custom') return Number(field('shape-packages').value) || 1;
    const spec = machineSpecInput(v === '' ? DEFAULT_PRESET : v);
    return typeof spec.packages === 'number' ? spec.packages : 1;
  } catch {
    return 1;
  }
}

function refreshHelpers(): void {
  const pkg = field<HTMLSelectElement>('helper-pkg');
  const keep = pkg.value;
  pkg.replaceChildren(new Option('every package', ''));
  for (let p = 0; p < Math.min(64, packagesNow()); p++) pkg.append(new Option(`package ${p}`, String(p)));
  pkg.value = [...pkg.options].some((o) => o.value === keep) ? keep : '';
  $<HTMLElement>('#shape').hidden = field<HTMLSelectElement>('machine').value !== 'custom';
  const fileRadio = form.querySelector<HTMLInputElement>('[name="image-source"][value="file"]')!;
  field('image-size').disabled = fileRadio.checked;
}

const lines = (name: string): string[] =>
  field<HTMLTextAreaElement>(name)
    .value.split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** The controls as `simulate` flags (not yet checked). */
function controlsArgv(): string[] {
  const argv: string[] = [];
  const str = (name: string, flag = name): void => {
    const v = field<HTMLInputElement | HTMLSelectElement>(name).value.trim();
    if (v !== '') argv.push(`--${flag}`, v);
  };
  const machine = field<HTMLSelectElement>('machine').value;
  if (machine === 'custom') {
    argv.push('--machine', machineRaw ?? JSON.stringify(shapeMachine()));
  } else if (machine !== '') argv.push('--machine', machine);
  str('offline');
  for (const l of lines('cpu-fault')) argv.push('--cpu-fault', l);
  for (const l of lines('profile')) argv.push('--profile', l);
  for (const l of lines('fault')) argv.push('--fault', l);
  const fromFile = form.querySelector<HTMLInputElement>('[name="image-source"][value="file"]')!.checked;
  if (fromFile && currentFile !== undefined) argv.push('--firmware', currentFile);
  else str('image-size');
  for (const name of ['hz', 'kernel', 'staging', 'budget', 'chunk-retries', 'dedupe', 'poll', 'poll-us'])
    str(name);
  if (field('force-minrev').checked) argv.push('--force-minrev');
  for (const l of lines('cost')) argv.push('--cost', l);
  str('seed');
  str('time-limit');
  return argv;
}

function shapeMachine(): Record<string, unknown> {
  const base = field<HTMLSelectElement>('shape-base').value;
  const preset = (PRESETS[base] ?? {}) as Record<string, unknown>;
  const presetNumbering = (preset.numbering ?? {}) as { packages?: string; smt?: string };
  // Only what differs from the preset: the link stays short.
  const m: Record<string, unknown> = { extends: base, name: `${base}-custom` };
  const shape: [string, number][] = [
    ['packages', Number(field('shape-packages').value)],
    ['coresPerPackage', Number(field('shape-cores').value)],
    ['threadsPerCore', Number(field<HTMLSelectElement>('shape-threads').value)],
  ];
  for (const [key, value] of shape) if (value !== preset[key]) m[key] = value;
  const numbering = {
    packages: field<HTMLSelectElement>('shape-numbering').value,
    smt: field<HTMLSelectElement>('shape-smt').value,
  };
  if (
    numbering.packages !== (presetNumbering.packages ?? 'package-major') ||
    numbering.smt !== (presetNumbering.smt ?? 'last')
  )
    m.numbering = numbering;
  return m;
}

/** Set every control from flags (a link, an example). Unknown flags are reported by the run. */
function applyArgv(argv: readonly string[]): void {
  const v = parseRunArgv(argv);
  const s = (name: string): string => {
    const x = v[name];
    return typeof x === 'string' ? x : '';
  };
  const list = (name: string): string => {
    const x = v[name];
    return (Array.isArray(x) ? x : typeof x === 'string' ? [x] : []).join('\n');
  };
  const machine = s('machine');
  const sel = field<HTMLSelectElement>('machine');
  machineRaw = undefined;
  $<HTMLElement>('#shape-note').hidden = true;
  if (machine.startsWith('{')) {
    sel.value = 'custom';
    try {
      const m = JSON.parse(machine) as Record<string, unknown>;
      const base = typeof m.extends === 'string' && PRESETS[m.extends] ? m.extends : DEFAULT_PRESET;
      setShapeFrom(base, m);
      if (JSON.stringify(m) !== JSON.stringify(shapeMachine())) {
        machineRaw = machine;
        const note = $<HTMLElement>('#shape-note');
        note.textContent = 'This machine came from a machine file: changing the shape replaces it.';
        note.hidden = false;
      }
    } catch {
      machineRaw = machine;
    }
  } else {
    sel.value = machine === DEFAULT_PRESET ? '' : machine;
    if (sel.value !== (machine === DEFAULT_PRESET ? '' : machine)) {
      // Not a preset: let the run say so.
      machineRaw = undefined;
      sel.append(new Option(machine, machine));
      sel.value = machine;
    }
    setShapeFrom(PRESETS[machine] ? machine : DEFAULT_PRESET);
  }
  field('offline').value = s('offline');
  field<HTMLTextAreaElement>('cpu-fault').value = list('cpu-fault');
  field<HTMLTextAreaElement>('profile').value = list('profile');
  field<HTMLTextAreaElement>('fault').value = list('fault');
  field<HTMLTextAreaElement>('cost').value = list('cost');
  const firmware = s('firmware');
  form.querySelector<HTMLInputElement>(
    `[name="image-source"][value="${firmware ? 'file' : 'synthetic'}"]`,
  )!.checked = true;
  if (firmware) {
    currentFile = firmware;
    if (!files.has(firmware))
      showImageInfo(`This link runs the microcode file '${printable(firmware)}': drop it here.`, true);
  }
  field('image-size').value = s('image-size');
  for (const name of ['hz', 'kernel', 'staging', 'budget', 'dedupe', 'poll']) {
    const sel2 = field<HTMLSelectElement>(name);
    const value = s(name);
    sel2.value = value === defaultOf(name) ? '' : value;
    if (sel2.value !== (value === defaultOf(name) ? '' : value)) sel2.value = '';
  }
  for (const name of ['chunk-retries', 'poll-us', 'seed', 'time-limit']) field(name).value = s(name);
  field('force-minrev').checked = v['force-minrev'] === true;
  refreshHelpers();
}

// ---- the image ----

function showImageInfo(text: string, bad = false): void {
  const info = $<HTMLElement>('#image-info');
  info.textContent = text;
  info.classList.toggle('bad', bad);
}

async function takeFile(file: File): Promise<void> {
  if (file.size > MAX_FILE_BYTES) {
    showImageInfo(
      `'${printable(file.name)}' is ${file.size} bytes, over the 64 MiB limit for a microcode file`,
      true,
    );
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  // The link and the CLI command name the file as it is called (the hash encodes any character).
  const name = file.name || 'microcode.bin';
  const report = format.inspectFile(name, bytes);
  const out: string[] = [];
  if (report.error) out.push(`microcode: ${report.error.message}`);
  for (const b of report.blobs) {
    out.push(
      `blob ${b.index} at ${b.offset}: signature ${format.hex(b.signature, 8)} (${b.fms}), platforms ${format.hex(b.platformFlags, 2)}, revision ${format.hex(b.revision)}, ${b.date ?? 'bad date'}, ${b.totalSize.toLocaleString('en-US')} bytes${b.valid ? '' : ' (rejected)'}`,
    );
  }
  if (report.blobs.length === 0 && !report.error) out.push('no microcode in this file');
  showImageInfo(
    `${name}, ${bytes.length.toLocaleString('en-US')} bytes\n${out.join('\n')}`,
    report.error !== null,
  );
  files.set(name, bytes);
  currentFile = name;
  for (const w of [runner, comparer]) w.sendFile(name, bytes);
  form.querySelector<HTMLInputElement>('[name="image-source"][value="file"]')!.checked = true;
  refreshHelpers();
  rerun();
}

// ---- workers ----

/**
 * One worker. A request sent while the worker has been busy for a while (a long run)
 * ends it and starts a new one: a run cannot be interrupted, and the newest request is
 * the only one that matters.
 */
class Runner {
  private worker!: Worker;
  private busySince = -1;
  constructor(private readonly onAnswer: (a: WorkerAnswer) => void) {
    this.start();
  }
  private start(): void {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.worker.addEventListener('message', (ev: MessageEvent<WorkerAnswer>) => {
      if (ev.data.type !== 'progress') this.busySince = -1;
      this.onAnswer(ev.data);
    });
    this.worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      showError(
        `the simulator's worker could not start (${ev.message || 'no reason given'}); serve this folder over http, e.g. with 'ucode-staging playground'`,
      );
    });
    for (const [name, bytes] of files) this.post({ type: 'firmware', name, bytes });
  }
  private post(m: WorkerRequest): void {
    this.worker.postMessage(m);
  }
  sendFile(name: string, bytes: Uint8Array): void {
    this.post({ type: 'firmware', name, bytes });
  }
  send(req: RunRequest): void {
    if (this.busySince >= 0 && performance.now() - this.busySince > 250) {
      this.worker.terminate();
      this.start();
    }
    if (this.busySince < 0) this.busySince = performance.now();
    this.post(req);
  }
}

// ---- runs ----

let startedAt = 0;
let current: { id: number; argv: string[] } | null = null;

function rerun(push = false): void {
  hideError();
  let run: ParsedRun;
  const raw = controlsArgv();
  try {
    run = parseRun(raw);
  } catch (err) {
    showError(err instanceof Error ? err.message : String(err));
    setStatus('not run: fix the input');
    return;
  }
  const argv = runArgs(run);
  const hash = hashOf(argv);
  const url = `${location.pathname}${location.search}${hash}`;
  if (hash !== location.hash || hash === '') {
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
  }
  $<HTMLElement>('#cli-command').textContent = cliCommand(run);
  const id = ++handle.requested;
  current = { id, argv };
  startedAt = performance.now();
  setStatus('running…');
  runner.send({ type: 'run', id, argv });
}

function onRunAnswer(a: WorkerAnswer): void {
  if (a.id !== current?.id) return;
  if (a.type === 'progress') {
    setStatus(`running… staging pass ${a.done} of ${a.planned}`);
    return;
  }
  if (a.type !== 'run') return;
  if (!a.ok) {
    showError(a.error);
    setStatus('the run stopped');
    handle.shown = a.id;
    return;
  }
  const { argv } = current;
  // staging off vs on waits for the timeline to be on screen: it would only slow it down.
  show(a, () => comparer.send({ type: 'compare', id: a.id, argv }));
}

function show(a: RunAnswer, then: () => void): void {
  const f = a.figures;
  const ms = (ns: number): string => `${(ns / 1e6).toFixed(3)} ms`;
  const stop = $<HTMLElement>('[data-testid="stop-window"]');
  stop.textContent = f.stopWindowNs === null ? 'none (the CPUs were never all released)' : ms(f.stopWindowNs);
  stop.dataset.ns = f.stopWindowNs === null ? '' : String(f.stopWindowNs);
  $<HTMLElement>('[data-testid="staging-figure"]').textContent = f.stagingAttempted
    ? `${ms(f.stagingNs)}, ${f.stagingOk ? 'ok' : `failed ${f.stagingErrno}`}`
    : 'not attempted';
  $<HTMLElement>('[data-testid="reload"]').textContent = ms(f.reloadNs);
  const outcome = $<HTMLElement>('[data-testid="outcome"]');
  outcome.textContent = `${f.outcome}${f.panic ? `: ${f.panic}` : ''}`;
  outcome.className = f.outcome === 'updated' ? 'good' : 'bad';
  $<HTMLElement>('[data-testid="revision"]').textContent =
    `${format.hex(f.revisionOld)} → ${format.hex(f.revisionNew)}`;
  $<HTMLElement>('#summary').textContent = `${a.header}\n\n${a.summary}`;
  $<HTMLElement>('#dmesg').textContent = a.dmesg;

  const body = $<HTMLTableSectionElement>('#passes tbody');
  const rows: string[] = [];
  const max = 256;
  a.passes.slice(0, max).forEach((p, i) => {
    rows.push(
      `<tr${p.errno !== 0 ? ' class="bad"' : ''}><td>${i + 1}</td><td>${p.pkg}</td><td>${p.cpu}</td><td>${format.hex(p.mailboxPa)}</td><td>${p.bytesSent.toLocaleString('en-US')}</td><td>${p.chunks.toLocaleString('en-US')}</td><td>${p.resends}</td><td>${p.polls.toLocaleString('en-US')}</td><td>${(p.ns / 1e6).toFixed(3)}</td><td>${p.errno}</td></tr>`,
    );
  });
  if (a.passes.length > max)
    rows.push(`<tr><td colspan="10">… ${a.passes.length - max} more passes</td></tr>`);
  if (a.passes.length === 0) rows.push('<tr><td colspan="10">no staging pass</td></tr>');
  body.innerHTML = rows.join('');

  const totalMs = performance.now() - startedAt;
  handle.shown = a.id;
  handle.lastRun = {
    id: a.id,
    argv: current!.argv,
    totalMs,
    frameMs: Number.NaN,
    simulateMs: a.ms.simulate,
    renderMs: a.ms.render,
    stopWindowNs: f.stopWindowNs,
    outcome: f.outcome,
  };
  handle.runs.push(totalMs);
  setStatus(
    `ran in ${Math.round(totalMs)} ms (simulate ${Math.round(a.ms.simulate)} ms, report ${Math.round(a.ms.render)} ms)`,
  );
  const frame = $<HTMLIFrameElement>('#timeline');
  const id = a.id;
  loadFrame(frame, a.reportHtml, () => {
    if (handle.lastRun?.id === id) handle.lastRun.frameMs = performance.now() - startedAt;
    if (current?.id === id) then();
  });
  clearCompare();
}

function loadFrame(frame: HTMLIFrameElement, html: string, done?: () => void): void {
  frame.onload = () => {
    try {
      const doc = frame.contentDocument;
      if (doc) frame.style.height = `${Math.min(2400, doc.documentElement.scrollHeight + 8)}px`;
    } catch {
      // Another origin: keep the frame's own height.
    }
    done?.();
  };
  frame.srcdoc = html;
}

function clearCompare(): void {
  $<HTMLTableSectionElement>('#compare tbody').replaceChildren();
  $<HTMLElement>('#compare-note').textContent = 'running staging off and on…';
}

function onCompareAnswer(a: WorkerAnswer): void {
  if (a.id !== current?.id || a.type !== 'compare') return;
  if (!a.ok) {
    $<HTMLElement>('#compare-note').textContent = a.error;
    handle.compared = a.id;
    return;
  }
  showCompare(a);
}

function showCompare(a: CompareAnswer): void {
  const p = a.point;
  const ms = (ns: number | null): string => (ns === null ? 'none' : (ns / 1e6).toFixed(3));
  const row = (label: string, f: typeof p.off): string =>
    `<tr><th>${label}</th><td>${ms(f.stopWindowNs)}</td><td>${f.stagingNs ? ms(f.stagingNs) : '–'}</td><td>${ms(f.reloadNs)}</td><td class="${f.outcome === 'updated' ? 'good' : 'bad'}">${escapeHtml(f.outcome)}${f.why ? `: ${escapeHtml(f.why)}` : ''}</td></tr>`;
  $<HTMLTableSectionElement>('#compare tbody').innerHTML =
    row('staging off', p.off) + row(`staging ${escapeHtml(a.onPolicy)}`, p.on);
  $<HTMLElement>('#compare-note').textContent =
    p.stopWindowReductionPct === null
      ? 'No reduction to give: a run had no stop window.'
      : `Staging makes the stop window ${p.stopWindowReductionPct}% shorter (compare() ran both in ${Math.round(a.ms.compare)} ms).`;
  handle.compared = a.id;
  loadFrame($<HTMLIFrameElement>('#compare-frame'), a.reportHtml);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function setStatus(text: string): void {
  $<HTMLElement>('#status').textContent = text;
}

function showError(text: string): void {
  const el = $<HTMLElement>('#error');
  el.textContent = `ucode-staging simulate: ${text}`;
  el.hidden = false;
}

function hideError(): void {
  $<HTMLElement>('#error').hidden = true;
}

// ---- examples, links, buttons ----

function setupExamples(): void {
  const box = $<HTMLElement>('#example-buttons');
  for (const ex of EXAMPLES) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = ex.title;
    b.dataset.example = ex.id;
    b.addEventListener('click', () => {
      const note = $<HTMLElement>('#example-note');
      note.textContent = ex.note;
      note.hidden = false;
      applyArgv(ex.argv);
      rerun(true);
    });
    box.append(b);
  }
}

function fromHash(): void {
  try {
    applyArgv(argvOfHash(location.hash));
  } catch (err) {
    showError(err instanceof Error ? err.message : String(err));
    return;
  }
  rerun();
}

async function copy(text: string, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    setStatus(`${what} copied`);
  } catch {
    setStatus(`${what} is shown below: copy it from there`);
  }
}

const runner = new Runner(onRunAnswer);
const comparer = new Runner(onCompareAnswer);

setupControls();
setupExamples();

form.addEventListener('submit', (ev) => ev.preventDefault());
form.addEventListener('input', (ev) => {
  const t = ev.target as HTMLElement;
  if (t.getAttribute('name')?.startsWith('helper-') || t.getAttribute('name')?.startsWith('cpufault-'))
    return;
  if (t instanceof HTMLTextAreaElement || (t instanceof HTMLInputElement && t.type === 'text')) return;
  if (t.getAttribute('name')?.startsWith('shape-')) machineRaw = undefined;
  if (t.getAttribute('name') === 'machine') {
    machineRaw = undefined;
    const v = field<HTMLSelectElement>('machine').value;
    if (v !== 'custom') setShapeFrom(v === '' ? DEFAULT_PRESET : v);
  }
  if (t.getAttribute('name') === 'shape-base') setShapeFrom(field<HTMLSelectElement>('shape-base').value);
  if (t.getAttribute('type') === 'file') return;
  refreshHelpers();
  rerun();
});
form.addEventListener('change', (ev) => {
  const t = ev.target as HTMLElement;
  if (t instanceof HTMLTextAreaElement || (t instanceof HTMLInputElement && t.type === 'text')) rerun();
});
field('file').addEventListener('change', () => {
  const f = field('file').files?.[0];
  if (f) void takeFile(f);
});
const drop = $<HTMLElement>('#drop');
drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  const f = ev.dataTransfer?.files[0];
  if (f) void takeFile(f);
});
// A file dropped anywhere else must not make the browser navigate to it.
window.addEventListener('dragover', (ev) => ev.preventDefault());
window.addEventListener('drop', (ev) => ev.preventDefault());

document.addEventListener('click', (ev) => {
  const b = (ev.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
  if (!b) return;
  switch (b.dataset.action) {
    case 'copy-cli':
      void copy($<HTMLElement>('#cli-command').textContent ?? '', 'the command');
      break;
    case 'copy-link':
      void copy(location.href, 'the link');
      break;
    case 'add-fault': {
      const pkg = field<HTMLSelectElement>('helper-pkg').value;
      const spec = `${pkg === '' ? '' : `${pkg}=`}${field<HTMLSelectElement>('helper-kind').value}@${Number(field('helper-at').value) || 0}`;
      const ta = field<HTMLTextAreaElement>('fault');
      ta.value = [...lines('fault'), spec].join('\n');
      rerun();
      break;
    }
    case 'add-profile': {
      const pkg = field<HTMLSelectElement>('helper-pkg').value;
      const spec = `${pkg === '' ? '' : `${pkg}=`}${field<HTMLSelectElement>('helper-profile').value}`;
      const ta = field<HTMLTextAreaElement>('profile');
      ta.value = [...lines('profile'), spec].join('\n');
      rerun();
      break;
    }
    case 'add-cpu-fault': {
      const ns = field('cpufault-ns').value.trim();
      const spec = `${Number(field('cpufault-cpu').value) || 0}=${field<HTMLSelectElement>('cpufault-kind').value}${ns ? `:${ns}` : ''}`;
      const ta = field<HTMLTextAreaElement>('cpu-fault');
      ta.value = [...lines('cpu-fault'), spec].join('\n');
      rerun();
      break;
    }
  }
});
window.addEventListener('popstate', fromHash);
window.addEventListener('hashchange', fromHash);

fromHash();
handle.ready = true;
