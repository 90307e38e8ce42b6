import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './io.js';

let counter = 0;

/**
 * Write a file so that readers see the old file or the whole new one, never a
 * part: write a temporary sibling, fsync, rename over the target.
 * `content` may be a string or an iterable of chunks (for outputs too large for one string).
 */
export function writeFileAtomic(path: string, content: string | Iterable<string>): void {
  const target = resolve(path);
  const dir = dirname(target);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`cannot write '${path}': folder '${dir}' does not exist`);
  }
  if (existsSync(target) && statSync(target).isDirectory()) {
    throw new UsageError(`cannot write '${path}': it is a folder`);
  }
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${counter++}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (err) {
    throw new UsageError(`cannot write '${path}': ${describe(err)}`);
  }
  try {
    if (typeof content === 'string') writeSync(fd, content);
    else {
      let buffer = '';
      for (const chunk of content) {
        buffer += chunk;
        if (buffer.length >= 1 << 20) {
          writeSync(fd, buffer);
          buffer = '';
        }
      }
      if (buffer) writeSync(fd, buffer);
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, target);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw new UsageError(`cannot write '${path}': ${describe(err)}`);
  }
}

function describe(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOSPC') return 'no space left on device';
  if (code === 'EROFS') return 'read-only file system';
  return err instanceof Error ? err.message : String(err);
}
