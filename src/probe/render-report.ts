import type { ProbeFiguresJson, ProbeReport } from './probe-report.js';

const LABEL_WIDTH = 12;

// biome-ignore lint/suspicious/noControlCharactersInRegex: exactly these are escaped
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Text from a host file, shown escaped: a control character in it must not reach the terminal. */
function shown(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function ms(ns: number | null): string {
  return ns === null ? '-' : `${(ns / 1e6).toFixed(3)} ms`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;
}

function yesNo(v: boolean | null, yes: string, no: string): string {
  return v === null ? 'unknown' : v ? yes : no;
}

function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The short report a person reads in one look. Everything here is ours; no kernel log line is printed. */
export function formatProbeReport(r: ProbeReport): string {
  const lines: string[] = [];
  const row = (label: string, ...texts: string[]): void => {
    texts.forEach((t, i) => {
      lines.push(`${(i === 0 ? label : '').padEnd(LABEL_WIDTH)}${shown(t)}`);
    });
  };
  lines.push(
    `ucode-staging probe: what a late load would do on ${r.root === '/' ? 'this host' : r.root} (read-only)`,
    '',
  );

  const h = r.host;
  const platform =
    h.vendor !== 'GenuineIntel'
      ? ''
      : h.platformId === null
        ? ', platform id unknown'
        : `, platform id ${h.platformId}`;
  const cpu = `${h.vendor ?? 'unknown vendor'} ${h.fms ?? '??-??-??'} (sig ${h.signature ?? 'unknown'}${platform})`;
  const virt =
    h.virtualization === 'vm-guest'
      ? 'VM guest'
      : h.virtualization === 'bare-metal'
        ? 'bare metal'
        : 'bare metal or VM: unknown';
  row('host', `${cpu}, ${virt}`, ...(h.modelName ? [h.modelName] : []));
  const t = h.topology;
  const offline = t.offlineList === '' ? 'none offline' : `offline ${t.offlineList}`;
  row(
    'cpus',
    `${plural(t.packages, 'package')} x ${plural(t.coresPerPackage, 'core')} x ${plural(t.threadsPerCore, 'thread')}: ${t.present} present, ${t.online} online, ${offline}`,
  );
  row('numbering', numberingText(t.numbering), ...t.approximations.map((a) => `approximate: ${a}`));
  row('revision', ...revisionLines(r));
  row('kernel', kernelText(r));

  if (r.update) row('update', ...updateLines(r));
  row('verdict', r.verdict.summary, ...r.verdict.reasons.filter((x) => !r.verdict.summary.includes(x)));
  if (r.verdict.advice) row('', `what to do: ${r.verdict.advice}`);
  for (const c of r.verdict.caveats) row('', `note: ${c}`);
  if (r.verdict.kind === 'not-applicable') row('staging', 'not applicable');
  else if (h.vendor === 'GenuineIntel') row('staging', ...stagingLines(r));
  if (r.prediction) row('prediction', ...predictionLines(r));
  if (r.notes.length) row('not seen', ...r.notes);
  row(
    'exit',
    `${r.exitStatus}: ${r.exitStatus === 0 ? 'a late load would update this host safely' : 'a late load would not update this host safely'}`,
  );
  return `${lines.join('\n')}\n`;
}

function numberingText(n: { packages: string; smt: string }): string {
  const pkg =
    n.packages === 'single-package'
      ? 'one package'
      : n.packages === 'irregular'
        ? 'packages in no regular order'
        : n.packages === 'interleaved'
          ? 'interleaved across packages'
          : 'package-major';
  const smt =
    n.smt === 'no-smt'
      ? 'no SMT'
      : n.smt === 'irregular'
        ? 'SMT siblings in no regular order'
        : n.smt === 'unknown'
          ? 'SMT siblings all offline'
          : `SMT siblings ${n.smt}`;
  return `${pkg}, ${smt}`;
}

function revisionLines(r: ProbeReport): string[] {
  const rev = r.host.revisions;
  if (rev.packages.length === 0) return [`CPU 0 ${rev.cpu0 ?? 'unknown'}`];
  if (rev.uniform) return [`${rev.cpu0 ?? rev.packages[0]!.revision ?? 'unknown'} on every CPU`];
  return rev.packages.map((p) => {
    const diff = p.differing.slice(0, 6).map((d) => `CPU ${d.cpu} ${d.revision}`);
    const more = p.differing.length > 6 ? `, ${p.differing.length - 6} more` : '';
    return `package ${p.package}: ${p.revision ?? 'unknown'}${diff.length ? ` (but ${diff.join(', ')}${more})` : ''}`;
  });
}

function kernelText(r: ProbeReport): string {
  const k = r.host.kernel;
  const late =
    k.lateLoading === 'compiled-in'
      ? 'late loading compiled in'
      : k.lateLoading === 'compiled-out'
        ? 'late loading compiled out'
        : k.lateLoading === 'always'
          ? 'late loading built in (before 5.19 it always was)'
          : 'late loading unknown';
  const hz = k.hz === null ? 'HZ unknown' : `HZ ${k.hz}`;
  const minrev = `force_minrev ${k.forceMinrev.value ? 'on' : 'off'}`;
  return `${k.release ?? 'unknown release'}: staging ${yesNo(k.hasStaging, 'yes (6.19+)', 'no (before 6.19)')}, ${late}, ${hz}, ${minrev}${k.disUcodeLdr.value ? ', loader disabled' : ''}`;
}

function updateLines(r: ProbeReport): string[] {
  const u = r.update!;
  const blob = u.blob ?? u.refusedBlob;
  if (blob === null) return [`${u.file ?? u.name}: ${u.reason}`];
  const what = `${u.file} blob ${blob.index}: ${u.currentRevision} -> ${blob.revision}${blob.date ? `, dated ${blob.date}` : ''}, ${grouped(blob.totalSize)} bytes, minimum ${blob.minRequiredRevision}`;
  return u.blob === null ? [what, `not loaded: ${u.reason}`] : [what];
}

function stagingLines(r: ProbeReport): string[] {
  const s = r.staging;
  const head =
    s.support === 'supported'
      ? `supported: ${s.why}`
      : s.support === 'not-supported'
        ? `not supported: ${s.why}`
        : `unknown: ${s.why}`;
  const kernel = s.kernelHasStaging === false ? '; this kernel has no staging step (6.19+ has)' : '';
  const lines = [`${head}${kernel}`];
  if (s.passes !== null) {
    const cpus = s.passCpus.slice(0, 8).map((p) => p.cpu);
    const more = s.passCpus.length > 8 ? ', ...' : '';
    const passes = s.passes;
    const repeat =
      passes > r.host.topology.packages
        ? ` (${plural(r.host.topology.packages, 'package')}: the walk skips a package only when the previous primary thread was in it)`
        : '';
    lines.push(`${plural(passes, 'pass')} on this numbering, from CPU ${cpus.join(', ')}${more}${repeat}`);
    const mb = s.mailboxes;
    if (mb.length > 0)
      lines.push(
        `mailboxes ${mb.every((m) => m.address === null) ? `unknown (${mb[0]!.problem ?? 'not read'})` : mb.map((m) => `${m.address ?? 'unknown'} (pkg ${m.package})`).join(', ')}`,
      );
  }
  return lines;
}

function figureText(f: ProbeFiguresJson): string {
  if (f.outcome !== 'updated') return `${f.outcome} (${f.reloadReturns})`;
  const staged = f.stagingPasses > 0 ? `, staging ${ms(f.stagingNs)}${f.stagingOk ? '' : ' (failed)'}` : '';
  return `stop window ${ms(f.stopWindowNs)}${staged}, reload ${ms(f.reloadNs)}`;
}

function predictionLines(r: ProbeReport): string[] {
  const p = r.prediction!;
  const lines: string[] = [];
  if (p.hypothetical) lines.push(`${p.hypothetical}:`);
  const tag = (which: 'with-staging' | 'without-staging'): string =>
    p.thisHost === which ? ' (this host)' : '';
  if (p.withStaging) lines.push(`with staging:    ${figureText(p.withStaging)}${tag('with-staging')}`);
  lines.push(`without staging: ${figureText(p.withoutStaging)}${tag('without-staging')}`);
  lines.push(`assumes ${p.assumptions}`);
  return lines;
}
