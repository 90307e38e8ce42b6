import { fstatSync, realpathSync, type Stats, statfsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type CliIo, UsageError } from './io.js';
import {
  checkOutputWritable,
  type OutputContent,
  type OutputKind,
  type OutputTarget,
  resolveOutputTarget,
  writeOutput,
} from './output-file.js';

/** One output option as given: `{ flag: '--json', path: values.json }` (undefined: not given). */
export interface OutputRequest {
  flag: string;
  path: string | undefined;
}

/** An input the outputs must not overwrite: a path, or a path and what it is ('firmware file'). */
export type InputRef = string | { what: string; path: string };

export interface PlannedOutput {
  readonly flag: string;
  readonly path: string;
  /**
   * 'stdout' for '-', and for a path that is the file or pipe standard output already goes to
   * (`--json /dev/stdout > out.txt`): written through standard output, in order; 'stderr' likewise.
   */
  readonly kind: 'stdout' | 'stderr' | OutputKind;
}

export interface OutputPlan {
  /** The outputs given, in the order given. */
  readonly outputs: readonly PlannedOutput[];
  /** Some output goes to standard output: the command should not print its own text there. */
  readonly usesStdout: boolean;
  /** The output was given. */
  has(flag: string): boolean;
  /** The output goes to standard output ('-'). */
  toStdout(flag: string): boolean;
  /** The path as given, or undefined when the output was not given. */
  path(flag: string): string | undefined;
  /** Say on stderr when an output will be large (over 1 GB), and when its file system has less room. */
  estimate(flag: string, bytes: number): void;
  /**
   * Write the output of `flag` (a no-op when it was not given). Chunks of an iterable are
   * written as they come, never joined. Throws a one-line UsageError when the write fails.
   * Content given as a function is made only when the output was asked for (a JSON
   * result or an HTML report costs more than a whole default run).
   */
  write(flag: string, content: OutputContent | (() => OutputContent)): Promise<void>;
  /**
   * Write a further file that belongs to output `flag` (campaign's machine files beside
   * --failing), by the same rules, refused if it is an input or one of the planned outputs.
   */
  writeExtra(flag: string, path: string, content: OutputContent): Promise<void>;
}

/** Outputs at least this large are announced on stderr by `estimate()`. */
export const LARGE_OUTPUT_BYTES = 1e9;

interface Identity {
  dev?: number | undefined;
  ino?: number | undefined;
}

interface KnownInput extends Identity {
  what: string;
  path: string;
  folder: boolean;
}

const same = (a: Identity | undefined, b: Identity | undefined): boolean =>
  a?.ino !== undefined && b?.ino !== undefined && a.dev === b.dev && a.ino === b.ino;

function fdIdentity(fd: number): (Identity & { chr: boolean }) | undefined {
  try {
    const st = fstatSync(fd);
    return { dev: st.dev, ino: st.ino, chr: st.isCharacterDevice() };
  } catch {
    return undefined;
  }
}

function knownInputs(inputs: readonly InputRef[]): KnownInput[] {
  const out: KnownInput[] = [];
  for (const ref of inputs) {
    const { what, path } = typeof ref === 'string' ? { what: '', path: ref } : ref;
    let st: Stats;
    try {
      st = statSync(path);
    } catch {
      continue; // an input that does not exist cannot be overwritten
    }
    out.push({ what, path, dev: st.dev, ino: st.ino, folder: st.isDirectory() });
  }
  return out;
}

/** Refuse an output that is an input, or an existing file directly in an input folder. */
function checkNotInput(flag: string, t: OutputTarget, inputs: readonly KnownInput[]): void {
  if (t.ino === undefined) return;
  let folder: Identity | undefined;
  if (t.kind === 'file') {
    try {
      folder = statSync(dirname(t.target));
    } catch {
      folder = undefined;
    }
  }
  for (const input of inputs) {
    if (!input.folder && same(t, input)) {
      throw new UsageError(
        `${flag} '${t.path}' is an input of this run (${describeInput(input)}); refusing to overwrite it`,
      );
    }
    if (input.folder && same(folder, input)) {
      throw new UsageError(
        `${flag} '${t.path}' is a file in an input of this run (${describeInput(input)}); refusing to overwrite it`,
      );
    }
  }
}

function describeInput(input: KnownInput): string {
  return input.what ? `the ${input.what} '${input.path}'` : `'${input.path}'`;
}

/** What makes two outputs the same place; undefined when sharing is harmless (a character device). */
function placeKey(kind: PlannedOutput['kind'], t: OutputTarget | undefined): string | undefined {
  if (kind === 'stdout' || kind === 'stderr') return kind;
  if (!t || kind === 'char-device') return undefined;
  if (t.ino !== undefined) return `${t.dev}:${t.ino}`;
  let dir = dirname(t.target);
  try {
    dir = realpathSync.native(dir);
  } catch {
    // keep the path as resolved
  }
  return `new:${join(dir, basename(t.target))}`;
}

function withFlag<T>(flag: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof UsageError && !err.message.startsWith(`${flag}`))
      throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

function describePlace(kind: PlannedOutput['kind'], path: string): string {
  return kind === 'stdout' ? 'standard output' : kind === 'stderr' ? 'standard error' : `'${path}'`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e12) return `${(bytes / 1e12).toFixed(1)} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} bytes`;
}

/**
 * Check every output before the run, so a long run never ends in exit 2: each path is '-'
 * (standard output) or a path whose folder exists and is writable and which is not a folder
 * or block device; no output is one of `inputs` (compared by device and inode, so a symlink or
 * hard link to an input counts) or an existing file in an input folder; no two outputs go to
 * the same place (character devices such as /dev/null excepted). Throws a one-line UsageError.
 */
export function planOutputs(
  requests: readonly OutputRequest[],
  inputs: readonly InputRef[],
  io: Pick<CliIo, 'stdout' | 'stderr'>,
): OutputPlan {
  const known = knownInputs(inputs);
  const stdoutId = fdIdentity(1);
  const stderrId = fdIdentity(2);
  const planned: (PlannedOutput & { place: string | undefined })[] = [];
  for (const { flag, path } of requests) {
    if (path === undefined) continue;
    if (planned.some((p) => p.flag === flag)) throw new UsageError(`${flag} is given twice`);
    let kind: PlannedOutput['kind'];
    let target: OutputTarget | undefined;
    if (path === '-') kind = 'stdout';
    else {
      const t = withFlag(flag, () => resolveOutputTarget(path));
      target = t;
      kind = t.kind;
      // The file or pipe stdout already writes to: through stdout, or a rename would orphan it.
      if (kind !== 'char-device' && same(t, stdoutId)) kind = 'stdout';
      else if (kind !== 'char-device' && same(t, stderrId)) kind = 'stderr';
      else {
        withFlag(flag, () => checkNotInput(flag, t, known));
        withFlag(flag, () => checkOutputWritable(t));
      }
    }
    const place = placeKey(kind, target);
    const clash = place === undefined ? undefined : planned.find((p) => p.place === place);
    if (clash) {
      throw new UsageError(`${clash.flag} and ${flag} both write ${describePlace(kind, path)}`);
    }
    planned.push({ flag, path, kind, place });
  }

  const find = (flag: string) => planned.find((p) => p.flag === flag);

  const throughStd = (kind: 'stdout' | 'stderr', content: OutputContent): void => {
    const put = kind === 'stdout' ? io.stdout : io.stderr;
    if (typeof content === 'string') {
      put(content);
      return;
    }
    const decoder = new TextDecoder();
    if (content instanceof Uint8Array) {
      put(decoder.decode(content));
      return;
    }
    let pending = '';
    for (const chunk of content) {
      pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      if (pending.length >= 1 << 16) {
        put(pending);
        pending = '';
      }
    }
    pending += decoder.decode();
    if (pending) put(pending);
  };

  const writeTo = async (flag: string, path: string, content: OutputContent, isExtra: boolean) => {
    // Checked again: the file system may have changed during the run.
    const t = withFlag(flag, () => resolveOutputTarget(path));
    withFlag(flag, () => checkNotInput(flag, t, known));
    if (isExtra) {
      const place = placeKey(t.kind, t);
      const clash = place === undefined ? undefined : planned.find((p) => p.place === place);
      if (clash) throw new UsageError(`${flag}: '${path}' is also the output of ${clash.flag}`);
    }
    await withFlagAsync(flag, () => writeOutput(t, content, io.stderr));
  };

  return {
    outputs: planned.map(({ flag, path, kind }) => ({ flag, path, kind })),
    usesStdout: planned.some((p) => p.kind === 'stdout'),
    has: (flag) => find(flag) !== undefined,
    toStdout: (flag) => find(flag)?.kind === 'stdout',
    path: (flag) => find(flag)?.path,
    estimate(flag, bytes) {
      const p = find(flag);
      if (!p || !(bytes >= LARGE_OUTPUT_BYTES)) return;
      let line = `ucode-staging: writing about ${formatBytes(bytes)} to ${describePlace(p.kind, p.path)}`;
      if (p.kind === 'file' || p.kind === 'new') {
        const free = freeBytes(p.path);
        if (free !== undefined && free < bytes) line += ` (only ${formatBytes(free)} free there)`;
      }
      io.stderr(`${line}\n`);
    },
    async write(flag, content) {
      const p = find(flag);
      if (!p) {
        if (requests.some((r) => r.flag === flag)) return; // given as undefined: not asked for
        throw new Error(`output ${flag} was not planned`);
      }
      const made = typeof content === 'function' ? content() : content;
      if (p.kind === 'stdout' || p.kind === 'stderr') throughStd(p.kind, made);
      else await writeTo(flag, p.path, made, false);
    },
    async writeExtra(flag, path, content) {
      await writeTo(flag, path, content, true);
    },
  };
}

async function withFlagAsync(flag: string, call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (err instanceof UsageError && !err.message.startsWith(`${flag}`))
      throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

function freeBytes(path: string): number | undefined {
  try {
    const t = resolveOutputTarget(path);
    const s = statfsSync(dirname(t.target));
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}
