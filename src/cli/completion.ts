import type { CliOption, CommandSpec } from './spec.js';
import { COMMON_OPTIONS } from './spec.js';

// Shell completions, generated from the same command descriptions as --help.

function words(c: CommandSpec): string {
  return [...c.options, ...COMMON_OPTIONS].map((o) => `--${o.name}`).join(' ');
}

function valueCase(o: CliOption, indent: string): string | undefined {
  const flags = [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])].join('|');
  if (o.choices?.length)
    return `${indent}${flags}) COMPREPLY=($(compgen -W "${o.choices.join(' ')}" -- "$cur")); return;;`;
  if (o.path) return `${indent}${flags}) COMPREPLY=($(compgen -f -- "$cur")); return;;`;
  return undefined;
}

export function bashCompletion(commands: readonly CommandSpec[]): string {
  const top = commands.filter((c) => !c.name.includes(' ')).map((c) => c.name);
  const lines = [
    '# bash completion for ucode-staging (generated: ucode-staging completion bash)',
    '_ucode_staging() {',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd=${COMP_WORDS[1]}',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W "${[...top, 'help', 'completion'].join(' ')} --version --help" -- "$cur")); return`,
    '  fi',
    '  case "$cmd" in',
  ];
  for (const c of commands.filter((x) => !x.name.includes(' '))) {
    lines.push(`    ${c.name})`, '      case "$prev" in');
    for (const o of [...c.options, ...COMMON_OPTIONS]) {
      const line = valueCase(o, '        ');
      if (line) lines.push(line);
    }
    lines.push('      esac');
    const files = c.operands?.path ? ' -f' : '';
    lines.push(`      COMPREPLY=($(compgen${files} -W "${words(c)}" -- "$cur")); return;;`);
  }
  lines.push(
    `    help) COMPREPLY=($(compgen -W "${top.join(' ')}" -- "$cur")); return;;`,
    '    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return;;',
    '  esac',
    '}',
    'complete -F _ucode_staging ucode-staging',
  );
  return `${lines.join('\n')}\n`;
}

/** zsh: the same table through bashcompinit, so both shells complete alike. */
export function zshCompletion(commands: readonly CommandSpec[]): string {
  return `#compdef ucode-staging\n# zsh completion for ucode-staging (generated: ucode-staging completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bashCompletion(commands)}`;
}
