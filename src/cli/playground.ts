import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  argsFromSimulateOptions,
  cpuCount,
  type MachineInput,
  machineSpecInput,
  RUN_OPTIONS,
  simulateOptionsFromArgs,
} from '../index.js';
import { childProcess, http } from './builtins.js';
import { PLAYGROUND } from './commands.js';
import { type Command, EXIT, printable, UsageError } from './io.js';
import { asUsage, loadMachine } from './sim-options.js';
import { helpText, parseCommand } from './spec.js';

// `ucode-staging playground`: serve the browser playground (dist/playground/, built by
// `npm run build`) on 127.0.0.1 only, as static files. With run flags, the link it prints
// opens the playground on that run; --link prints the link and serves nothing.

export const DEFAULT_PORT = 8470;

/** The built playground folder: beside the CLI's folder in dist/. */
export function playgroundRoot(): string {
  return fileURLToPath(new URL('../playground/', import.meta.url));
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The type a file is served with: by its extension, else plain bytes. */
export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The file under `root` a request path names, or null when it names none: only plain
 * segments (no '..', '.', empty, backslash, NUL or encoded separator), no hidden files,
 * and the real path (symlinks resolved) must stay inside the root.
 */
export function resolveRequestPath(root: string, urlPath: string): string | null {
  const q = urlPath.search(/[?#]/);
  const raw = q < 0 ? urlPath : urlPath.slice(0, q);
  if (!raw.startsWith('/')) return null;
  const segments: string[] = [];
  for (const part of raw.slice(1).split('/')) {
    if (part === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(part);
    } catch {
      return null;
    }
    if (seg.startsWith('.') || /[\\/\0]/.test(seg)) return null;
    segments.push(seg);
  }
  let path = join(root, ...segments);
  try {
    if (statSync(path).isDirectory()) path = join(path, 'index.html');
    const real = realpathSync(path);
    const realRoot = realpathSync(root);
    if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep))
      return null;
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** A static file server for `root`, answering only GET and HEAD for this host's own name. */
export function playgroundServer(root: string): Server {
  return http().createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, text: string): void => {
      res
        .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
        .end(`${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(405, 'method not allowed');
      return;
    }
    // A page elsewhere cannot reach this server through a name of its own (DNS rebinding).
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
      send(421, 'misdirected request: use http://127.0.0.1');
      return;
    }
    const file = resolveRequestPath(root, req.url ?? '/');
    if (file === null) {
      send(404, 'not found');
      return;
    }
    const size = statSync(file).size;
    res.writeHead(200, { 'content-type': contentType(file), 'content-length': size, ...SECURITY_HEADERS });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
}

/** The playground's URL hash for a run's flags: `#--fault=never-ready@0&--seed=3` (see src/playground/args.ts). */
export function playgroundHash(args: readonly string[]): string {
  const stringFlags = new Set(RUN_OPTIONS.filter((o) => o.type === 'string').map((o) => o.name));
  const parts: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('--') && stringFlags.has(arg.slice(2)) && i + 1 < args.length)
      parts.push(`${arg}=${args[++i]!}`);
    else parts.push(arg);
  }
  const encode = (text: string): string =>
    [...text].map((ch) => (/[A-Za-z0-9\-._~!$'()*+,;=:@/?]/.test(ch) ? ch : encodeURIComponent(ch))).join('');
  return parts.length ? `#${parts.map(encode).join('&')}` : '';
}

type PlaygroundValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** The run the flags describe, as the playground's hash (a machine file goes inline as JSON). */
async function runHash(values: PlaygroundValues): Promise<string> {
  const machineArg = typeof values.machine === 'string' ? values.machine : undefined;
  const machine: MachineInput | undefined = await loadMachine(machineArg);
  const firmware = typeof values.firmware === 'string' ? values.firmware : undefined;
  if (firmware !== undefined && (values.synthetic === true || values['image-size'] !== undefined))
    throw new UsageError('--synthetic/--image-size and --firmware exclude each other');
  return asUsage(() => {
    const base = machineSpecInput(machine);
    const cpus =
      typeof base.packages === 'number' ? cpuCount(base as Parameters<typeof cpuCount>[0]) : 65_536;
    const options = simulateOptionsFromArgs(values, machine, cpus);
    // The page is handed the file by a drop; the link names it by its base name.
    const name = firmware?.split(/[\\/]/).pop();
    const args = argsFromSimulateOptions(
      name === undefined ? options : { ...options, firmware: new Uint8Array(0) },
      {
        ...(typeof machine === 'object' ? { machine: JSON.stringify(machine) } : {}),
        ...(name === undefined ? {} : { firmware: name }),
      },
    );
    return playgroundHash(args);
  });
}

function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = childProcess().spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No browser to open: the link is printed anyway.
  }
}

export const playgroundCommand: Command = async (argv, io) => {
  const { values } = parseCommand(PLAYGROUND, argv);
  if (values.help) {
    io.stdout(helpText(PLAYGROUND));
    return EXIT.ok;
  }
  const portText = typeof values.port === 'string' ? values.port : String(DEFAULT_PORT);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    throw new UsageError(`--port expects a port number 0..65535, got '${printable(portText)}'`);
  const port = Number(portText);
  const hash = await runHash(values);

  if (values.link === true) {
    io.stdout(`http://127.0.0.1:${port}/${hash}\n`);
    return EXIT.ok;
  }
  const root = playgroundRoot();
  if (resolveRequestPath(root, '/index.html') === null)
    throw new UsageError(`the playground is not built: ${root}index.html is missing (run 'npm run build')`);

  const server = playgroundServer(root);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(`port ${port} is in use: choose another with --port N (0: any free port)`)
          : err,
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${hash}`;
  io.stdout(`ucode-staging playground: serving ${root} on ${url}\n(local only; Ctrl-C stops it)\n`);
  if (values.open === true) openBrowser(url);
  // Serves until stopped: Ctrl-C (exit 130) or SIGTERM (143), as every command ends on them.
  return await new Promise<number>((resolve) => {
    const stop = (status: number) => (): void => {
      server.close(() => resolve(status));
      server.closeAllConnections();
    };
    process.once('SIGINT', stop(EXIT.sigint));
    process.once('SIGTERM', stop(EXIT.sigterm));
  });
};
