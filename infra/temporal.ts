import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { searchAttributeFlags } from './search-attributes';

/**
 * The Temporal dev server (`temporal server start-dev`) for local runs and tests. With
 * TEMPORAL_ADDRESS set nothing is started: the engine uses that cluster.
 */

const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  /** The server process (benchmarks read its CPU time from /proc). */
  pid?: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port: number;
  /** UI port, or undefined for a headless server (tests). */
  uiPort?: number;
  /** SQLite file for persistent state; undefined keeps everything in memory (tests). */
  dbFile?: string;
  /** Folder for the server's log and pid files. */
  stateDir: string;
  log?: (line: string) => void;
}

/** Path of a working `temporal` binary: found, cached, or built once (see scripts/ensure-temporal.sh). */
export async function ensureTemporalBinary(): Promise<string> {
  const script = path.join(PROJECT_ROOT, 'scripts', 'ensure-temporal.sh');
  return new Promise((resolve, reject) => {
    // stderr is inherited so the build's progress lines reach the person waiting.
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const binary = out.trim().split('\n').pop();
      if (code === 0 && binary) resolve(binary);
      else reject(new Error(`No temporal binary available (scripts/ensure-temporal.sh ended with ${signal ?? `code ${code}`}; see the messages above).`));
    });
  });
}

export async function startDevServer(options: DevServerOptions): Promise<RunningTemporal> {
  const binary = await ensureTemporalBinary();
  mkdirSync(options.stateDir, { recursive: true });
  const pidFile = path.join(options.stateDir, 'temporal.pid');
  await stopLeftoverServer(pidFile);

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    // WAL lets the UI's reads and the server's writes proceed together and survives crashes well.
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  args.push(...searchAttributeFlags());

  const logFile = path.join(options.stateDir, 'temporal-server.log');
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(logStream);
  child.stderr!.pipe(logStream);
  writeFileSync(pidFile, String(child.pid));
  // If this process dies without stopping the server (an uncaught error), take the server with it.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  const address = `127.0.0.1:${options.port}`;
  try {
    await waitUntil(() => isPortOpen(options.port), child, 60_000, `Temporal dev server on ${address}`);
    await waitUntil(() => namespaceReady(binary, address), child, 60_000, 'the default namespace');
  } catch (error) {
    await stopChild(child);
    throw new Error(`${(error as Error).message}. Server log: ${logFile}\n${tail(logFile)}`);
  }
  options.log?.(`Temporal dev server ready on ${address} (log: ${logFile})`);

  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    pid: child.pid,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
      logStream.end();
      rmSync(pidFile, { force: true });
    },
  };
}

async function namespaceReady(binary: string, address: string): Promise<boolean> {
  try {
    await promisify(execFile)(binary, ['operator', 'namespace', 'describe', '--address', address, '-n', 'default'], {
      timeout: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A free TCP port on loopback for a server started later (tests, benchmarks, `npm start` on free
 * ports). Taken below the kernel's ephemeral range: a port the kernel hands out (listen on 0) is
 * also what it gives outgoing connections as their source port, and in a parallel test run one of
 * them could take it between this check and the server's own bind (a dev server once failed with
 * "address already in use" on its UI port so). Below the range only another explicit bind can.
 * Falls back to the kernel's choice when no port there is free.
 */
export async function freePort(): Promise<number> {
  const [low, high] = outsideEphemeralRange();
  for (let attempt = 0; high > low && attempt < 50; attempt += 1) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canListen(port)) return port;
  }
  return listenAndClose(0);
}

/** Ports from 20000 up to just below the ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range). */
function outsideEphemeralRange(): [number, number] {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // Not Linux: the IANA range starts at 49152; 32768 is below it too.
  }
  return [20_000, ephemeralLow - 1]; // empty (the kernel's choice) when the range starts that low
}

async function canListen(port: number): Promise<boolean> {
  try {
    await listenAndClose(port);
    return true;
  } catch {
    return false;
  }
}

function listenAndClose(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

async function waitUntil(
  check: () => Promise<boolean>,
  child: ChildProcess,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what}: the server exited with code ${child.exitCode}`);
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what}: not ready after ${timeoutMs / 1000}s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** After a crash of the engine its dev server may still hold the ports and the SQLite file. */
async function stopLeftoverServer(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !isTemporalProcess(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 15_000 && isTemporalProcess(pid); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (isTemporalProcess(pid)) process.kill(pid, 'SIGKILL');
}

function isTemporalProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev');
  } catch {
    return false;
  }
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
