/**
 * What the benchmark processes read from the host: the wall clock, the
 * microcode files and the CPU model. The measured modules get all of it
 * injected, so they use no Node API.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Clock } from './harness.js';
import { REAL_IMAGE_NAME, syntheticGnrFile } from './images.js';

export const now: Clock = () => performance.now();
export const MB = 1024 * 1024;

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository, from the compiled bench/ folder (dist-bench/bench/). */
const REPO = resolve(HERE, '../..');

export interface Firmware {
  /** Folder of microcode files, if one was found. */
  dir: string | undefined;
  /** Where the folder came from, for the report. */
  dirSource: string;
}

export function findFirmware(): Firmware {
  const fromEnv = process.env.UCODE_FIRMWARE_DIR;
  if (fromEnv) {
    return isDir(fromEnv)
      ? { dir: resolve(fromEnv), dirSource: 'UCODE_FIRMWARE_DIR' }
      : { dir: undefined, dirSource: `UCODE_FIRMWARE_DIR=${fromEnv} is not a folder` };
  }
  const shared = resolve(REPO, '../shared/intel-microcode/intel-ucode');
  if (isDir(shared)) return { dir: shared, dirSource: '../shared/intel-microcode/intel-ucode' };
  if (isDir('/lib/firmware/intel-ucode'))
    return { dir: '/lib/firmware/intel-ucode', dirSource: '/lib/firmware/intel-ucode' };
  return { dir: undefined, dirSource: 'no microcode folder found' };
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** 06-ad-01 from the folder, or a synthetic file of the same size (two blobs of the same sizes). */
export function imageFile(dir: string | undefined): { bytes: Uint8Array; source: string } {
  const path = dir ? join(dir, REAL_IMAGE_NAME) : undefined;
  if (path && existsSync(path)) {
    const b = readFileSync(path);
    return { bytes: new Uint8Array(b.buffer, b.byteOffset, b.length), source: `real ${REAL_IMAGE_NAME}` };
  }
  return { bytes: syntheticGnrFile(), source: `synthetic stand-in for ${REAL_IMAGE_NAME} (file absent)` };
}

/** Every regular file of the folder, by name, each in its own buffer. */
export function folderFiles(dir: string): Uint8Array[] {
  return readdirSync(dir)
    .sort()
    .map((name) => join(dir, name))
    .filter((p) => statSync(p).isFile())
    .map((p) => {
      const b = readFileSync(p);
      return new Uint8Array(b.buffer, b.byteOffset, b.length);
    });
}

export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}
