// Imports nothing, so a program that only escapes text (the CLI's entry, its error
// paths) does not load the simulator with it.

/**
 * Text as it may be shown on a terminal or in one line of a message: control
 * characters (an ANSI escape, a newline that could forge a log line) escaped.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what we escape
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

/** A value quoted inside a one-line message, control characters escaped. */
export function quoted(text: string): string {
  return `'${printable(text)}'`;
}
