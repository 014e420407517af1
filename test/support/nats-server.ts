import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort } from '../../infra/temporal';
import { eventually } from './api-server';

/**
 * A NATS server with JetStream for the tests that publish to one: `NATS_TEST_URL` when set, else the
 * machine's own on 127.0.0.1:4222 when it answers, else one started here from `nats-server` (on PATH
 * or NATS_SERVER_BINARY) on a free port with a throwaway store. None of these: the test fails and says
 * so. The only way to skip is saying it: SKIP_NATS_TESTS=1 (CI does not set it).
 */
export const SKIP_NATS_TESTS = process.env.SKIP_NATS_TESTS === '1';
export const describeWithNats = SKIP_NATS_TESTS ? describe.skip : describe;

export interface TestNats {
  url: string;
  /** Who runs it: `external` (NATS_TEST_URL or the machine's), `started` (this process). */
  origin: 'external' | 'started';
  stop(): Promise<void>;
}

export async function natsForTests(): Promise<TestNats> {
  const given = process.env.NATS_TEST_URL;
  const url = given ?? 'nats://127.0.0.1:4222';
  // NATS_TEST_START=1 always starts one here (to check this path on a machine that runs its own).
  if (process.env.NATS_TEST_START !== '1' && (await jetStreamAnswers(url))) return { url, origin: 'external', stop: async () => undefined };
  if (given) throw new Error(`NATS_TEST_URL=${given} does not answer with JetStream enabled`);
  const binary = process.env.NATS_SERVER_BINARY ?? onPath('nats-server');
  if (!binary) {
    throw new Error(
      'No NATS server answers on 127.0.0.1:4222 and no nats-server binary is on PATH: install one (Debian: apt-get install nats-server) ' +
        'or set NATS_SERVER_BINARY or NATS_TEST_URL; SKIP_NATS_TESTS=1 skips these tests explicitly',
    );
  }
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'order-engine-nats-'));
  const child = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ownUrl = `nats://127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}: ${stderr.slice(-500)}`);
    return (await jetStreamAnswers(ownUrl)) || undefined;
  }, 30_000, `nats-server on ${ownUrl}`);
  return {
    url: ownUrl,
    origin: 'started',
    async stop() {
      await stopChild(child);
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

async function jetStreamAnswers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 2_000, maxReconnectAttempts: 0, reconnect: false });
    try {
      await (await jetstreamManager(nc)).getAccountInfo();
      return true;
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat('/usr/sbin', '/usr/local/sbin')) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
