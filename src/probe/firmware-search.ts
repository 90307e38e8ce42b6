import { entryProblem, type HostFiles } from './host-files.js';

/**
 * Where request_firmware() looks for `intel-ucode/FF-MM-SS`, in order (the firmware loader's
 * fw_path[]): the firmware_class.path parameter, then /lib/firmware/updates/<release>,
 * /lib/firmware/updates, /lib/firmware/<release>, /lib/firmware. The first file that can be
 * read wins. With --firmware DIR only DIR is searched, under the name /lib/firmware/intel-ucode/.
 */
export function firmwareSearchPaths(
  name: string,
  opts: { release: string | null; firmwareClassPath: string; folderOnly: boolean },
): string[] {
  if (opts.folderOnly) return [`/lib/firmware/${name}`];
  const dirs = [
    opts.firmwareClassPath,
    ...(opts.release ? [`/lib/firmware/updates/${opts.release}`] : []),
    '/lib/firmware/updates',
    ...(opts.release ? [`/lib/firmware/${opts.release}`] : []),
    '/lib/firmware',
  ].filter((d) => d !== '' && d.startsWith('/'));
  return [...new Set(dirs.map((d) => `${d.replace(/\/+$/, '')}/${name}`))];
}

export interface FirmwareFile {
  /** The path the kernel would load, or null when none of the searched paths holds a readable file. */
  path: string | null;
  bytes: Uint8Array | null;
  searched: string[];
  /** Paths that exist but could not be read (the kernel would skip them too). */
  problems: string[];
}

export function findFirmwareFile(files: HostFiles, searched: readonly string[]): FirmwareFile {
  const problems: string[] = [];
  for (const path of searched) {
    const entry = files.get(path);
    if (entry?.kind === 'file') return { path, bytes: entry.bytes, searched: [...searched], problems };
    if (entry !== undefined && entry.kind !== 'missing') problems.push(`${path} ${entryProblem(entry)}`);
  }
  return { path: null, bytes: null, searched: [...searched], problems };
}
