import { styleText } from 'node:util';
import { UsageError } from './io.js';

// Colour where it helps a reader find what went wrong: errors, panics and
// hangs red, taint and unsafe loads yellow, success green. Only on a
// terminal, never with NO_COLOR, and as --color=auto|always|never says.

export const COLOR_WHEN = ['auto', 'always', 'never'] as const;

/** `--color[=WHEN]` taken out of the arguments (before a `--`), and whether to colour. */
export function takeColorOption(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  stdoutIsTTY: boolean,
): { argv: string[]; color: boolean } {
  let when: string = 'auto';
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--color' || arg === '--colour') when = 'always';
    else if (/^--colou?r=/.test(arg)) when = arg.slice(arg.indexOf('=') + 1);
    else rest.push(arg);
  }
  if (!(COLOR_WHEN as readonly string[]).includes(when))
    throw new UsageError(`--color must be one of ${COLOR_WHEN.join(', ')}, got '${when}'`);
  const color = when === 'always' || (when === 'auto' && stdoutIsTTY && !env.NO_COLOR && env.TERM !== 'dumb');
  return { argv: rest, color };
}

const RED =
  /\b(panic|Error:|error!|FAILED|failed|timed out|hang|hung|WARNING:|does not terminate|refused|cannot late-load)\b/;
const YELLOW = /\b(Unsafe|unsafe|taint(?!\s+none)|fell back|unstaged|not applicable|unknown)\b/;
const GREEN = /\b(succeeded|updated on|outcome\s+updated|would load safely|no invariant violated)\b/;

// We decide whether to colour (the terminal, NO_COLOR, --color), so styleText must not check again.
const style = (format: 'red' | 'yellow' | 'green', text: string): string =>
  styleText(format, text, { validateStream: false });

/** Text with its telling lines coloured (whole lines: the eye finds them, nothing is re-worded). */
export function paint(text: string, color: boolean | undefined): string {
  if (!color) return text;
  return text
    .split('\n')
    .map((line) => {
      if (RED.test(line)) return style('red', line);
      if (YELLOW.test(line)) return style('yellow', line);
      if (GREEN.test(line)) return style('green', line);
      return line;
    })
    .join('\n');
}
