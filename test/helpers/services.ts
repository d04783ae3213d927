import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/**
 * Real services on loopback for the handler tests: a throwaway PostgreSQL cluster (Debian's
 * package; `.ci/run` installs it) and moto_server (the AWS API emulator on these machines).
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

/** The directory holding initdb and pg_ctl: on PATH, or Debian's newest /usr/lib/postgresql/N/bin. */
export function postgresBinDirectory(): string {
  for (const directory of (process.env.PATH ?? '').split(path.delimiter)) {
    if (directory && fs.existsSync(path.join(directory, 'initdb')) && fs.existsSync(path.join(directory, 'pg_ctl'))) return directory;
  }
  const debian = '/usr/lib/postgresql';
  const versions = fs.existsSync(debian)
    ? fs
        .readdirSync(debian)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const directory = path.join(debian, version, 'bin');
    if (fs.existsSync(path.join(directory, 'initdb'))) return directory;
  }
  throw new Error('PostgreSQL server binaries not found: install them (Debian: apt-get install -y postgresql) or set TEST_DATABASE_URL');
}

export interface RunningPostgres {
  readonly url: string;
  stop(): void;
}

/** initdb + pg_ctl start on a free port, as the postgres user when running as root (PostgreSQL refuses root). */
export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBinDirectory();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trading-dr-pg-'));
  const dataDirectory = path.join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    fs.chownSync(root, uid, gid);
  }
  const run = (command: string, args: string[]): void => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, command), ...args]] : [path.join(bin, command), args];
    execFileSync(file, argv, { stdio: 'pipe' });
  };
  const port = await freePort();
  run('initdb', ['-D', dataDirectory, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
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
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const failed = new Promise<never>((_resolve, reject) => {
    child.once('error', (error) => reject(new Error(`moto_server could not start: ${error.message}`)));
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
