import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A CliIo that keeps what a command prints, for tests that run the CLI in process. */
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

/** `ucode-staging ARGS` in process, through the same dispatcher as the binary. */
export async function runCliInProcess(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  const { io, out } = captureIo(env);
  const code = await runCli(args, io);
  return { code, ...out() };
}
