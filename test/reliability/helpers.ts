import type { CliIo } from '../../src/cli/io.js';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export function captureIo(env: Record<string, string | undefined> = {}): {
  io: CliIo;
  out: () => { stdout: string; stderr: string };
} {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      isTTY: false,
      env,
    },
    out: () => ({ stdout, stderr }),
  };
}
