import type { CommandSpec } from './spec.js';
import { COMMON_OPTIONS, optionHead, optionHelp } from './spec.js';

// man ucode-staging, generated from the same command descriptions as --help.

/** Text as roff reads it back: backslashes, leading dots and quotes escaped. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1');
}

export function manPage(commands: readonly CommandSpec[], version: string, date: string): string {
  const out: string[] = [
    `.TH UCODE\\-STAGING 1 "${date}" "ucode-staging ${version}" "User Commands"`,
    '.SH NAME',
    'ucode\\-staging \\- an executable model of Intel microcode late loading with Linux 6.19 staging',
    '.SH SYNOPSIS',
  ];
  for (const c of commands) out.push(`.B ucode\\-staging ${roff(c.name)}`, roff(c.usage), '.br');
  out.push(
    '.SH DESCRIPTION',
    roff(
      "ucode-staging emulates a machine (packages, cores, SMT threads, MSRs, each core's microcode engine and one MMIO staging mailbox per package) and runs the Linux loader against it on a deterministic virtual clock: how long a late load stops the CPUs, with and without staging, and what happens when staging breaks. Kernel log lines are the kernel's, byte for byte; everything else is the model's.",
    ),
  );
  for (const c of commands) {
    out.push(`.SH ${roff(c.name.toUpperCase())}`, `.B ucode\\-staging ${roff(c.name)}`, roff(c.usage), '.PP');
    for (const para of c.description.split(/\n\s*\n/))
      out.push(roff(para.replace(/\s+/g, ' ').trim()), '.PP');
    for (const o of [...c.options, ...COMMON_OPTIONS])
      out.push('.TP', `.B ${roff(optionHead(o).trim())}`, roff(optionHelp(o)));
    out.push('.PP', '.B Exit status:');
    for (const [status, meaning] of c.exit) out.push('.TP', `.B ${status}`, roff(meaning));
    if (c.examples?.length) {
      out.push('.PP', '.B Examples:', '.nf');
      for (const e of c.examples) out.push(roff(e));
      out.push('.fi');
    }
  }
  out.push(
    '.SH ENVIRONMENT',
    '.TP',
    '.B NO_COLOR',
    'no colour on a terminal (as --color=never).',
    '.TP',
    '.B UCODE_STAGING_FIRMWARE_DIR',
    roff('the firmware folder used when --firmware is not given (default /lib/firmware/intel-ucode).'),
    '.TP',
    '.B UCODE_STAGING_DEBUG',
    'print the stack of an internal error.',
    '.SH SEE ALSO',
    roff(
      "iucode_tool(8); the project's docs/ folder: architecture, cost model, mailbox device, probe, reliability.",
    ),
  );
  return `${out.join('\n')}\n`;
}
