import type { HostPort } from '../platform/host-port.js';

export type LogLevel = 'emerg' | 'err' | 'warn' | 'info';

export interface LogLine {
  timeNs: number;
  level: LogLevel;
  /** The text as the kernel prints it, prefix included, no newline. */
  text: string;
}

/** `[    12.345678] ` as printk's timestamp prefix renders local_clock(). */
export function dmesgTimestamp(timeNs: number): string {
  const t = Math.max(0, Math.floor(timeNs / 1000));
  const sec = Math.floor(t / 1_000_000);
  const usec = t % 1_000_000;
  return `[${String(sec).padStart(5, ' ')}.${String(usec).padStart(6, '0')}]`;
}

export function formatDmesg(lines: readonly LogLine[]): string {
  return lines.map((l) => `${dmesgTimestamp(l.timeNs)} ${l.text}\n`).join('');
}

/** The kernel log of one run; `pr_*` add the loader's "microcode: " prefix (pr_fmt). */
export class KernelLog {
  readonly lines: LogLine[] = [];
  private readonly printedOnce = new Set<string>();

  constructor(private readonly port: Pick<HostPort, 'now'>) {}

  printk(level: LogLevel, text: string): void {
    this.lines.push({ timeNs: this.port.now(), level, text });
  }

  /** pr_<level>() for a call site whose level comes from a table rather than the call's name. */
  pr(level: LogLevel, text: string): void {
    this.printk(level, `microcode: ${text}`);
  }

  prInfo(text: string): void {
    this.pr('info', text);
  }

  prWarn(text: string): void {
    this.pr('warn', text);
  }

  prErr(text: string): void {
    this.pr('err', text);
  }

  /** pr_err_once(): keyed by call site, as the kernel keys it by the static flag. */
  prErrOnce(site: string, text: string): void {
    if (this.printedOnce.has(site)) return;
    this.printedOnce.add(site);
    this.prErr(text);
  }

  /** WARN_ON_ONCE(): a one-line summary of the splat the kernel would print. */
  warnOnce(site: string, where: string): void {
    if (this.printedOnce.has(site)) return;
    this.printedOnce.add(site);
    this.printk('warn', `WARNING: CPU: 0 PID: 1 at ${where}`);
  }
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

export function hex08(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}
