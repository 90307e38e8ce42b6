/**
 * Parsers for the text files a Linux host exposes. Each one takes whatever the file holds,
 * garbage included, and returns a value or a `ParseProblem` saying what was wrong: the probe
 * reports a bad file, it never throws on one.
 */

export interface ParseProblem {
  problem: string;
}

export function isProblem<T>(v: T | ParseProblem): v is ParseProblem {
  return typeof v === 'object' && v !== null && 'problem' in v;
}

/** Largest CPU number accepted in a list (Linux's NR_CPUS tops out at 8192; leave room). */
const MAX_CPU_NUMBER = 65_535;

/** A sysfs CPU list ("0-3,8,10-11", possibly empty) as sorted CPU numbers. */
export function parseCpuList(text: string): number[] | ParseProblem {
  const body = text.trim();
  if (body === '') return [];
  const out = new Set<number>();
  for (const part of body.split(',')) {
    const m = /^(\d{1,6})(?:-(\d{1,6}))?$/.exec(part.trim());
    if (!m) return { problem: `not a CPU list: ${quote(body)}` };
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi > MAX_CPU_NUMBER) return { problem: `bad CPU range ${quote(part)}` };
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** A whole number as sysfs prints it ("3", "-1"); `hex` also accepts "0x10003a2". */
export function parseSysfsNumber(text: string, opts: { hex?: boolean } = {}): number | ParseProblem {
  const t = text.trim();
  if (opts.hex && /^0x[0-9a-f]{1,8}$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^-?\d{1,10}$/.test(t)) return Number(t);
  return { problem: `not a number: ${quote(t)}` };
}

/** One `processor` block of /proc/cpuinfo: its fields by name ("vendor_id", "cpu family", ...). */
export type CpuinfoBlock = ReadonlyMap<string, string>;

/** /proc/cpuinfo as blocks, one per online CPU, in file order. Lines without a colon are ignored. */
export function parseCpuinfo(text: string): CpuinfoBlock[] {
  const blocks: Map<string, string>[] = [];
  let current: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (current === undefined || (key === 'processor' && current.has('processor'))) {
      current = new Map();
      blocks.push(current);
    }
    if (!current.has(key)) current.set(key, value);
  }
  return blocks.filter((b) => b.size > 0);
}

/**
 * A kernel .config: `CONFIG_X=value` lines, and `# CONFIG_X is not set` as the value 'n'.
 * Values keep their quotes stripped.
 */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (set) {
      out.set(set[1]!, set[2]!.replace(/^"(.*)"$/, '$1'));
      continue;
    }
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line.trim());
    if (unset) out.set(unset[1]!, 'n');
  }
  return out;
}

export interface CmdlineParam {
  key: string;
  /** undefined for a bare word (`dis_ucode_ldr`). */
  value: string | undefined;
}

/**
 * /proc/cmdline as the kernel's next_arg() splits it: whitespace separates parameters, double
 * quotes group (and are dropped), `key=value` or a bare key. Everything after a lone `--` goes
 * to init and is not the kernel's.
 */
export function parseCmdline(text: string): CmdlineParam[] {
  const params: CmdlineParam[] = [];
  let i = 0;
  const s = text.replace(/\n$/, '');
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let word = '';
    let quoted = false;
    while (i < s.length && (quoted || !/\s/.test(s[i]!))) {
      if (s[i] === '"') quoted = !quoted;
      else word += s[i];
      i++;
    }
    if (word === '--') break;
    const eq = word.indexOf('=');
    params.push(
      eq < 0 ? { key: word, value: undefined } : { key: word.slice(0, eq), value: word.slice(eq + 1) },
    );
  }
  return params;
}

/** kstrtobool() as the kernel's bool parameters use it; undefined when it is not a boolean. */
export function kernelBool(text: string): boolean | undefined {
  const c = text[0];
  if (c === undefined) return undefined;
  if ('yYtT1'.includes(c)) return true;
  if ('nNfF0'.includes(c)) return false;
  if (c === 'o' || c === 'O') {
    const d = text[1];
    if (d === 'n' || d === 'N') return true;
    if (d === 'f' || d === 'F') return false;
  }
  return undefined;
}

export interface KernelVersion {
  release: string;
  major: number;
  minor: number;
}

/** /proc/sys/kernel/osrelease ("6.19.0-rc3-amd64") as its release string and major.minor. */
export function parseRelease(text: string): KernelVersion | ParseProblem {
  const release = text.trim();
  const m = /^(\d{1,3})\.(\d{1,3})(?:[.\-+_~].*)?$/.exec(release);
  if (!m) return { problem: `not a kernel release: ${quote(release)}` };
  return { release, major: Number(m[1]), minor: Number(m[2]) };
}

export function versionAtLeast(v: KernelVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** A short, printable rendering of text from a host file for messages. */
export function quote(text: string, max = 40): string {
  const shown = text.length > max ? `${text.slice(0, max)}...` : text;
  return JSON.stringify(shown);
}
