import { hex } from '../format/hex.js';
import type { PackageStaging } from '../kernel/intel/staging-report.js';
import { KERNEL_LIMITS } from '../kernel/limits.js';
import type { SimulationResult } from '../sim/result-types.js';
import { bytes, grouped, ms3 } from './format.js';
import { headline } from './headline.js';
import { formatTable, type TableColumn } from './table.js';

export interface SummaryOptions {
  /** ANSI colours (bold labels, green/red verdicts). Default false. */
  color?: boolean;
  /** Passes listed before the table is shortened (interleaved numbering can make hundreds). Default 16. */
  maxPassRows?: number;
}

const LABEL_WIDTH = 12;

/**
 * The short human summary the CLI prints after the dmesg: what the machine
 * was, what was staged where, how long CPUs were stopped, and the verdict.
 */
export function formatSummary(result: SimulationResult, opts: SummaryOptions = {}): string {
  const c = palette(opts.color ?? false);
  const lines: string[] = [];
  const row = (label: string, text: string): void => {
    lines.push(`${c.bold(label.padEnd(LABEL_WIDTH))}${text}`);
  };
  const m = result.machine;

  lines.push(headline(result), '');
  row(
    'machine',
    `${m.name}: ${m.cpus} CPUs (${m.onlineCpus} online), ${m.packages} package${plural(m.packages)} x ${m.coresPerPackage} cores x ${m.threadsPerCore} thread${plural(m.threadsPerCore)}, sig ${hex(m.signature)}, staging ${m.stagingCapable ? 'capable' : 'not enumerated'}`,
  );
  const img = result.image;
  row(
    'image',
    img
      ? `${img.source}: revision ${hex(img.revision)}, ${grouped(img.totalSize)} bytes (${bytes(img.totalSize)})${img.date ? `, dated ${img.date}` : ''}`
      : 'none (no update accepted)',
  );

  const st = result.staging;
  if (!st.attempted) {
    row('staging', `not attempted (${notStagedReason(result)})`);
  } else {
    const loops = st.reason === 'does-not-terminate';
    const verdict = st.ok
      ? c.green('ok')
      : c.red(loops ? 'NEVER ENDS (see stuck)' : `FAILED ${st.errnoName} (${st.errno})`);
    const where =
      st.ok || st.failedCpu === null ? '' : ` on CPU${st.failedCpu} package ${st.failedPackage ?? '?'}`;
    const fallback =
      st.ok || loops
        ? ''
        : result.policy.staging === 'require'
          ? '; policy require: load aborted'
          : '; fell back to the ordinary late load';
    row(
      'staging',
      `${verdict}${where}${st.reason && !st.ok ? ` [${st.reason}]` : ''}: ${st.packages.length} pass${st.packages.length === 1 ? '' : 'es'}, ${grouped(st.bytesSent)} bytes in ${grouped(st.chunks)} chunks, ${grouped(st.resends)} re-sends, ${ms3(st.durationNs)} ms${fallback}`,
    );
    if (st.packages.length > 0) lines.push(...passTable(st.packages, opts.maxPassRows ?? 16));
    lines.push(...repeatedPackages(st.packages));
  }

  const sw = result.stopWindow;
  const stopped = result.cpus.filter((cpu) => Number.isFinite(cpu.stoppedNs)).length;
  row(
    'stop window',
    sw
      ? `${ms3(sw.durationNs)} ms (${stopped} CPUs stopped)`
      : c.red(stopped ? 'none (CPUs were never all released)' : 'none (no CPU was stopped)'),
  );
  row('apply', applyRange(result));
  row(
    'reload',
    result.writeReturn === null
      ? `never returns (the model followed it for ${ms3(result.reload.durationNs)} ms)`
      : `${ms3(result.reload.durationNs)} ms from the write to its return`,
  );
  row(
    'revision',
    `${hex(result.revision.old)} -> ${hex(result.revision.new)}${result.revision.old === result.revision.new ? ' (unchanged)' : ''}`,
  );
  const k = result.counts;
  const returned = result.writeReturn !== null;
  if (returned) {
    row(
      'cpus',
      `updated ${k.updated}, siblings ${k.siblings}, failed ${k.failed}, timed out ${k.timedOut}, offline ${k.offline}`,
    );
  } else {
    // The kernel tallies results only after stop_machine returns; this count is ours.
    const newRev = result.image?.revision;
    const at = result.cpus.filter((cpu) => newRev !== undefined && cpu.revisionAfter === newRev).length;
    row('cpus', `not tallied (the write never returns); ${at} of ${result.cpus.length} run the new revision`);
  }
  const good = result.outcome === 'updated' || result.outcome === 'no-change';
  const rc = result.returnCode === 0 ? '0' : `${result.returnCode} (${result.returnCodeName})`;
  const verdict = good ? c.green(result.outcome) : c.red(result.outcome);
  row('outcome', returned ? `${verdict}, reload returned ${rc}` : `${verdict}, the write never returns`);
  if (result.panicMessage) row('panic', c.red(result.panicMessage));
  if (result.hangReason) row('hang', c.red(result.hangReason));
  if (result.stuck) row('stuck', `${result.stuck.where}: ${result.stuck.reason}; ${result.stuck.bound}`);
  const taints = result.taints.map((t) =>
    t === 'TAINT_CPU_OUT_OF_SPEC' && !result.safe ? `${t} (unsafe image)` : t,
  );
  row('taint', taints.length ? c.yellow(taints.join(', ')) : 'none');
  for (const note of findingNotes(result)) row('finding', note);
  lines.push(...markedLines(result));
  return `${lines.join('\n')}\n`;
}

/**
 * What this run shows of a finding in docs/findings.md (a behaviour of 6.19
 * with a measured cost and a proposed change), one sentence each; [] when none.
 */
export function findingNotes(result: SimulationResult): string[] {
  const notes: string[] = [];
  const st = result.staging;
  const see = (n: number) => `; see docs/findings.md, finding ${n}`;
  const perPkg = new Map<number, number>();
  for (const p of st.packages) perPkg.set(p.pkg, (perPkg.get(p.pkg) ?? 0) + 1);
  const most = Math.max(0, ...perPkg.values());
  if (most > 1) {
    notes.push(
      `this machine's CPU numbering makes the kernel stage each package up to ${most} times (${st.packages.length} passes for ${perPkg.size} packages)${see(1)}`,
    );
  }
  const kernelWait = result.policy.poll === 'msleep';
  if (kernelWait && st.chunks > 0 && result.costModel.hz <= 300) {
    notes.push(
      `at HZ ${result.costModel.hz} each of the ${grouped(st.chunks)} staging transactions took ${ms3(st.durationNs / st.chunks)} ms on average, mostly asleep in msleep(1)${see(2)}`,
    );
  }
  if (result.policy.stageOrder === 'serial' && perPkg.size >= 4 && st.packages.length > 0) {
    const first = st.packages[0]!;
    const ratio = st.durationNs / Math.max(1, first.endNs - first.startNs);
    notes.push(
      `the ${perPkg.size} packages were staged one after another: ${ms3(st.durationNs)} ms, ${ratio.toFixed(1)} times the first package${see(3)}`,
    );
  }
  const waitedOut = st.packages.find(
    (p) =>
      kernelWait && (p.errno === -110 || p.errno === -5) && p.polls >= KERNEL_LIMITS.stagingPollIterations,
  );
  if (waitedOut) {
    notes.push(
      `package ${waitedOut.pkg}'s mailbox kept the reload waiting ${((waitedOut.endNs - waitedOut.startNs) / 1e9).toFixed(3)} s (${grouped(KERNEL_LIMITS.stagingPollIterations)} msleep(1) calls) before staging failed${see(4)}`,
    );
  }
  if (st.reason === 'does-not-terminate') {
    notes.push(
      `the mailbox answers the image length as the next offset for ever: 6.19 never leaves do_stage() and keeps the CPU hotplug lock${see(5)}`,
    );
  } else if (st.packages.some((p) => p.bytesSent > 4 * (p.dwordsWritten - 4 * p.chunks))) {
    notes.push(
      `the mailbox asked for unaligned offsets: requests carried fewer bytes than bytes_sent counted${see(5)}`,
    );
  }
  if (result.outcome === 'panic' && result.image && !result.applies.some((a) => a.staged)) {
    notes.push(
      `the unstaged WRMSR 0x79 of this ${grouped(result.image.totalSize)}-byte image outlasted the 1 s an SMT sibling waits for its primary${see(6)}`,
    );
  }
  return notes;
}

/** The log lines that are not the kernel's byte for byte: ours, or with fields the model cannot know. */
function markedLines(result: SimulationResult): string[] {
  const marked = result.log.filter((l) => l.mark !== undefined);
  if (marked.length === 0) return [];
  const n = marked.length;
  return [
    `${'log marks'.padEnd(LABEL_WIDTH)}${n} line${plural(n)} of the log ${n === 1 ? 'is' : 'are'} not the kernel's byte for byte`,
    ...marked.map((l) => `  ${l.mark!.kind.padEnd(LABEL_WIDTH - 2)}${l.text} (${l.mark!.note})`),
  ];
}

function notStagedReason(result: SimulationResult): string {
  if (!result.machine.stagingCapable) return 'the CPU does not enumerate staging';
  if (result.policy.staging === 'off') return 'policy staging=off';
  if (!result.image) return 'no image to stage';
  if (result.outcome === 'busy') return 'the load stopped before staging';
  return 'staging disabled';
}

const PASS_COLUMNS: readonly TableColumn[] = [
  { header: 'pass', align: 'right' },
  { header: 'pkg', align: 'right' },
  { header: 'cpu', align: 'right' },
  { header: 'mailbox' },
  { header: 'bytes', align: 'right' },
  { header: 'chunks', align: 'right' },
  { header: 're-sends', align: 'right' },
  { header: 'polls', align: 'right' },
  { header: 'time ms', align: 'right' },
  { header: 'errno' },
];

function passTable(passes: readonly PackageStaging[], maxRows: number): string[] {
  const toRow = (p: PackageStaging, i: number): string[] => [
    String(i + 1),
    String(p.pkg),
    String(p.cpu),
    hex(p.mailboxPa),
    grouped(p.bytesSent),
    grouped(p.chunks),
    grouped(p.resends),
    grouped(p.polls),
    ms3(p.endNs - p.startNs),
    String(p.errno),
  ];
  if (passes.length <= maxRows) return formatTable(PASS_COLUMNS, passes.map(toRow), { indent: '  ' });
  // Interleaved numbering can make hundreds of passes: the first ones, a count, the last ones.
  const tail = Math.min(2, maxRows - 1);
  const headCount = Math.max(1, maxRows - tail);
  const shown = [...passes.entries()].filter(([i]) => i < headCount || i >= passes.length - tail);
  const lines = formatTable(
    PASS_COLUMNS,
    shown.map(([i, p]) => toRow(p, i)),
    { indent: '  ' },
  );
  const hidden = passes.length - shown.length;
  lines.splice(1 + headCount, 0, `  ... ${hidden} more pass${hidden === 1 ? '' : 'es'} ...`);
  return lines;
}

/** Packages staged more than once (CPU numbering interleaved across packages). */
function repeatedPackages(passes: readonly PackageStaging[]): string[] {
  const byPkg = new Map<number, { n: number; bytes: number }>();
  for (const p of passes) {
    const t = byPkg.get(p.pkg) ?? { n: 0, bytes: 0 };
    t.n++;
    t.bytes += p.bytesSent;
    byPkg.set(p.pkg, t);
  }
  const out: string[] = [];
  for (const [pkg, t] of [...byPkg].sort((a, b) => a[0] - b[0])) {
    if (t.n > 1) out.push(`  package ${pkg} staged ${t.n} times (${grouped(t.bytes)} bytes)`);
  }
  return out;
}

function applyRange(result: SimulationResult): string {
  const primary: number[] = [];
  const sibling: number[] = [];
  for (const c of result.cpus) {
    if (!Number.isFinite(c.applyStartNs) || !Number.isFinite(c.applyEndNs)) continue;
    (c.primary ? primary : sibling).push(c.applyEndNs - c.applyStartNs);
  }
  if (primary.length + sibling.length === 0) return 'no CPU applied the update';
  const range = (v: number[]): string => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const x of v) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    return lo === hi ? `${ms3(lo)} ms` : `${ms3(lo)} .. ${ms3(hi)} ms`;
  };
  const parts: string[] = [];
  if (primary.length) parts.push(`primary threads ${range(primary)} (${primary.length})`);
  if (sibling.length) parts.push(`siblings ${range(sibling)} (${sibling.length})`);
  const staged = result.applies.filter((a) => a.staged).length;
  const writes = result.applies.length;
  if (writes) parts.push(`${writes} MSR 0x79 write${plural(writes)}, ${staged} used the staged copy`);
  return parts.join('; ');
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}

interface Palette {
  bold(s: string): string;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
}

function palette(color: boolean): Palette {
  const wrap =
    (open: number, close: number) =>
    (s: string): string =>
      color ? `\u001b[${open}m${s}\u001b[${close}m` : s;
  return { bold: wrap(1, 22), green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39) };
}
