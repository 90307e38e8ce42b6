import type { CommandSpec } from './spec.js';
import { COMMON_OPTIONS, optionHead } from './spec.js';

// docs/cli.md, generated from the same command descriptions as --help, the man
// page and the completions (test/cli/conventions.test.ts fails when it is stale).

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

export function cliMarkdown(commands: readonly CommandSpec[]): string {
  const out: string[] = [
    '# Command line',
    '',
    'Generated from `src/cli/commands.ts` by `ucode-staging help --markdown` (do not edit by hand;',
    '`--help`, `man ucode-staging` and the shell completions come from the same table).',
    '',
    'Install: `npm ci && npm run build`, then `npx ucode-staging ...` in this folder, or',
    '`npm link` / `npm install -g .` to put `ucode-staging` on the PATH. Completion:',
    '`source <(ucode-staging completion bash)` (or `zsh`).',
    '',
  ];
  for (const c of commands) {
    out.push(`## ${c.name}`, '', `${c.summary.charAt(0).toUpperCase()}${c.summary.slice(1)}.`, '');
    out.push('```', `ucode-staging ${c.name} ${c.usage}`.trimEnd(), '```', '');
    for (const para of c.description.split(/\n\s*\n/)) out.push(para.replace(/\s+/g, ' ').trim(), '');
    out.push('| option | meaning | default |', '| --- | --- | --- |');
    for (const o of [...c.options, ...COMMON_OPTIONS]) {
      out.push(
        `| \`${cell(optionHead(o).trim())}\` | ${cell(o.help)} | ${o.default === undefined ? '' : cell(o.default)} |`,
      );
    }
    out.push('', '| exit status | meaning |', '| --- | --- |');
    for (const [status, meaning] of c.exit) out.push(`| ${status} | ${cell(meaning)} |`);
    if (c.examples?.length) out.push('', '```', ...c.examples, '```');
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
