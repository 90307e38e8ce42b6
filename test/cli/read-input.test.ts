import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderFirmware } from '../../src/cli/folder-firmware.js';
import { UsageError } from '../../src/cli/io.js';
import {
  type InputFileError,
  MACHINE_FILE_MAX_BYTES,
  MICROCODE_FILE_MAX_BYTES,
  readInputFile,
  readInputText,
  readMachineFile,
  readMicrocodeFile,
  ScratchBuffer,
} from '../../src/cli/read-input.js';

// Inputs that could hang the process or grow its memory without bound: refused quickly, by name.

const dir = mkdtempSync(join(tmpdir(), 'ucode-read-'));
const fifo = join(dir, 'fifo');
const sock = join(dir, 'sock');
let server: Server;

beforeAll(async () => {
  execFileSync('mkfifo', [fifo]);
  server = createServer();
  await new Promise<void>((ok) => server.listen(sock, ok));
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const machine = { what: 'machine file', maxBytes: MACHINE_FILE_MAX_BYTES };
const microcode = { what: 'firmware file', maxBytes: MICROCODE_FILE_MAX_BYTES };

/** The call must fail with exactly one line, and fast (nothing was read). */
function refused(call: () => unknown, message: string | RegExp): void {
  const started = performance.now();
  let error: unknown;
  try {
    call();
  } catch (err) {
    error = err;
  }
  expect(performance.now() - started).toBeLessThan(1000);
  expect(error).toBeInstanceOf(UsageError);
  const text = (error as Error).message;
  expect(text).not.toContain('\n');
  if (typeof message === 'string') expect(text).toBe(message);
  else expect(text).toMatch(message);
}

describe('readInputFile', () => {
  it('reads a regular file whole', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, '\ufeff{"extends":"up"}');
    expect(readInputText(path, machine)).toBe('{"extends":"up"}');
    expect(readInputFile(path, machine).length).toBe(19);
  });

  it('a scratch buffer: each read gets exactly its own bytes, in memory reused when they fit', () => {
    const big = join(dir, 'scratch-big.bin');
    const small = join(dir, 'scratch-small.bin');
    writeFileSync(big, Buffer.alloc(10_000, 0xaa));
    writeFileSync(small, Buffer.from([1, 2, 3]));
    const scratch = new ScratchBuffer();
    const a = readInputFile(big, { ...microcode, scratch });
    expect(a.length).toBe(10_000);
    expect(a.every((b) => b === 0xaa)).toBe(true);
    const b = readInputFile(small, { ...microcode, scratch });
    expect([...b]).toEqual([1, 2, 3]);
    expect(b.buffer).toBe(a.buffer);
    // Without a scratch buffer every read has memory of its own.
    expect(readInputFile(small, microcode).buffer).not.toBe(b.buffer);
  });

  it('readMachineFile and readMicrocodeFile: the two caps', () => {
    const path = join(dir, 'machine.yaml');
    writeFileSync(path, 'extends: up\n');
    expect(readMachineFile(path)).toBe('extends: up\n');
    truncateSync(path, MACHINE_FILE_MAX_BYTES + 1);
    refused(() => readMachineFile(path), /over the 1\.0 MiB limit for a machine file$/);
    expect(readMicrocodeFile(path).length).toBe(MACHINE_FILE_MAX_BYTES + 1);
    refused(() => readMicrocodeFile(fifo), /^cannot read firmware file '.*fifo': it is a FIFO/);
  });

  it('a FIFO without a writer: refused at once, not waited on', () => {
    refused(
      () => readInputFile(fifo, microcode),
      `cannot read firmware file '${fifo}': it is a FIFO (named pipe), not a regular file`,
    );
  });

  it('knownRegularFile skips only the check before opening: a FIFO or device is still refused', () => {
    const known = { ...microcode, knownRegularFile: true };
    refused(
      () => readInputFile(fifo, known),
      `cannot read firmware file '${fifo}': it is a FIFO (named pipe), not a regular file`,
    );
    refused(() => readInputFile('/dev/zero', known), /it is a character device, not a regular file$/);
  });

  it.each(['/dev/zero', '/dev/urandom', '/dev/null'])('%s: refused, not read', (device) => {
    refused(
      () => readInputFile(device, machine),
      `cannot read machine file '${device}': it is a character device, not a regular file`,
    );
  });

  it('a socket', () => {
    refused(
      () => readInputFile(sock, machine),
      `cannot read machine file '${sock}': it is a socket, not a regular file`,
    );
  });

  it('a folder', () => {
    refused(
      () => readInputFile(dir, microcode),
      `cannot read firmware file '${dir}': it is a folder, not a regular file`,
    );
  });

  it('a file that does not exist', () => {
    const path = join(dir, 'missing');
    refused(
      () => readInputFile(path, machine),
      `cannot read machine file '${path}': no such file or directory`,
    );
    try {
      readInputFile(path, machine);
    } catch (err) {
      expect((err as InputFileError).code).toBe('ENOENT');
    }
  });

  it('a machine file over 1 MiB and a microcode file over 64 MiB (sparse: the size alone refuses them)', () => {
    const big = join(dir, 'big.json');
    writeFileSync(big, '');
    truncateSync(big, MACHINE_FILE_MAX_BYTES + 1);
    refused(
      () => readInputFile(big, machine),
      /it is 1\.0 MiB \(1048577 bytes\), over the 1\.0 MiB limit for a machine file$/,
    );
    const huge = join(dir, 'huge.bin');
    writeFileSync(huge, '');
    truncateSync(huge, 10 * 2 ** 30);
    refused(
      () => readInputFile(huge, microcode),
      /it is 10\.0 GiB \(10737418240 bytes\), over the 64\.0 MiB limit for a firmware file$/,
    );
    // Exactly at the cap is fine.
    truncateSync(big, MACHINE_FILE_MAX_BYTES);
    expect(readInputFile(big, machine).length).toBe(MACHINE_FILE_MAX_BYTES);
  });

  it('a file that says it is small but is not (/proc): read only up to the cap', () => {
    // /proc files report size 0 and are read until end of file.
    const status = readInputFile('/proc/self/status', { what: 'status', maxBytes: 1 << 20 });
    expect(new TextDecoder().decode(status)).toMatch(/^Name:/);
    refused(
      () => readInputFile('/proc/self/status', { what: 'status', maxBytes: 16 }),
      /grew past 16 bytes while being read$/,
    );
  });
});

describe('FolderFirmware: the firmware folder of simulate -f DIR', () => {
  it('a missing file is "no firmware"; a FIFO, device or oversize file in its place is an error naming it', () => {
    const folder = join(dir, 'intel-ucode');
    mkdirSync(folder);
    const fw = new FolderFirmware(folder);
    expect(fw.request('intel-ucode/06-ad-01')).toBeUndefined();
    execFileSync('mkfifo', [join(folder, '06-ad-01')]);
    refused(
      () => fw.request('intel-ucode/06-ad-01'),
      `cannot read firmware file '${join(folder, '06-ad-01')}': it is a FIFO (named pipe), not a regular file`,
    );
    writeFileSync(join(folder, '06-8f-08'), '');
    truncateSync(join(folder, '06-8f-08'), MICROCODE_FILE_MAX_BYTES + 1);
    refused(() => fw.request('intel-ucode/06-8f-08'), /over the 64\.0 MiB limit for a firmware file$/);
    writeFileSync(join(folder, '06-55-04'), 'bytes');
    expect(fw.request('intel-ucode/06-55-04')).toEqual(new TextEncoder().encode('bytes'));
    expect(fw.pathFor('intel-ucode/06-55-04')).toBe(join(folder, '06-55-04'));
  });
});
