import type { HostPort } from '../platform/host-port.js';

/** printk levels the loader's lines use; 'default' is KERN_DEFAULT (the "cut here" line of a WARN). */
export type LogLevel = 'emerg' | 'err' | 'warn' | 'info' | 'default';

/**
 * What the model could not print exactly as the kernel does. A line without a
 * mark is the kernel's, byte for byte.
 * - 'inexact': the kernel prints this line, but some fields depend on the
 *   kernel build (an instruction address, a source line, a function offset);
 *   the model shows each such field as `?` and `note` names them.
 * - 'ours': the kernel never prints this line; a policy beyond the kernel does
 *   (`note` says which).
 */
export interface LogMark {
  kind: 'inexact' | 'ours';
  note: string;
}

export interface LogLine {
  timeNs: number;
  level: LogLevel;
  /** The text as the kernel prints it, prefix included, no newline. */
  text: string;
  /** Present only when the line is not the kernel's byte for byte. */
  mark?: LogMark;
}

/** The task a kernel path runs as: raw_smp_processor_id() and current->pid, as a WARN prints them. */
export interface KernelTask {
  cpu: number;
  pid: number;
}

/** Taint flags the loader's paths can set (include/linux/panic.h names). */
export type TaintFlag = 'TAINT_WARN' | 'TAINT_CPU_OUT_OF_SPEC';

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

/** The x86 WARN splat's first line (lib/bug.c: printed before __warn()). */
export const CUT_HERE = '------------[ cut here ]------------';
/** print_oops_end_marker(): the oops id has been 0 since Linux 5.19. */
export const END_TRACE = '---[ end trace 0000000000000000 ]---';

const BUILD_DEPENDENT =
  "the source line and the caller's offset/size depend on the kernel build (shown as ?); the module list, registers and call trace the kernel prints next are not modelled";

/**
 * The kernel log of one run, and the kernel's taint mask (add_taint() and the
 * printk calls are both process-wide state every part of the model reaches).
 * `pr_*` add the loader's "microcode: " prefix (pr_fmt).
 */
export class KernelLog {
  readonly lines: LogLine[] = [];
  /** tainted_mask, in the order the flags were first set. */
  readonly taints: TaintFlag[] = [];
  private readonly printedOnce = new Set<string>();

  constructor(private readonly port: Pick<HostPort, 'now'>) {}

  printk(level: LogLevel, text: string, mark?: LogMark): void {
    const line: LogLine = { timeNs: this.port.now(), level, text };
    if (mark) line.mark = mark;
    this.lines.push(line);
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
    if (this.once(site)) this.prErr(text);
  }

  /** A line with the loader's prefix that the kernel never prints: a policy beyond the kernel's. */
  prOurs(level: LogLevel, text: string, why: string): void {
    this.printk(level, `microcode: ${text}`, { kind: 'ours', note: why });
  }

  /** add_taint(). */
  addTaint(flag: TaintFlag): void {
    if (!this.taints.includes(flag)) this.taints.push(flag);
  }

  /**
   * WARN_ON_ONCE() firing in `func` of `file`, run by `task`: the splat's lines
   * the model can know (the cut line, the WARNING line, the end marker), then
   * TAINT_WARN. Returns whether it printed (the once flag was still clear).
   */
  warnOnce(site: string, task: KernelTask, file: string, func: string): boolean {
    if (!this.once(site)) return false;
    this.printk('default', CUT_HERE);
    this.printk('warn', `WARNING: CPU: ${task.cpu} PID: ${task.pid} at ${file}:? ${func}+0x?/0x?`, {
      kind: 'inexact',
      note: BUILD_DEPENDENT,
    });
    this.printk('warn', END_TRACE);
    this.addTaint('TAINT_WARN');
    return true;
  }

  /**
   * ex_handler_msr() for an unchecked RDMSR that raised #GP (print-once for the
   * whole kernel): the caller then reads 0. No taint, no WARN.
   */
  uncheckedRdmsr(msr: number, func: string): void {
    if (!this.once('ex_handler_msr.rdmsr')) return;
    this.printk(
      'warn',
      `unchecked MSR access error: RDMSR from 0x${(msr >>> 0).toString(16)} at rIP: 0x? (${func}+0x?/0x?)`,
      {
        kind: 'inexact',
        note: 'the faulting instruction address and its symbol offset depend on the kernel build (shown as ?); the register dump and call trace the kernel prints next are not modelled',
      },
    );
  }

  private once(site: string): boolean {
    if (this.printedOnce.has(site)) return false;
    this.printedOnce.add(site);
    return true;
  }
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

export function hex08(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}
