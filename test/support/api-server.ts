import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import type { ApiSettings } from '../../api/settings';
import { createSandboxProvider, type SandboxProvider } from '../../modules/finance/sandbox';
import type { OrderTimeouts } from '../../workflows/order/definitions';
import { SHORT_TIMEOUTS, TEST_WEBHOOK_SECRET, testApiSettings } from './api';
import type { TestEnv } from './harness';

export interface TestApi {
  url: string;
  sandbox: SandboxProvider;
  close(): Promise<void>;
}

/**
 * The real API on a loopback port, with the sandbox payment provider posting its signed webhooks to
 * that API: the payment path of a test is the production path.
 */
export async function startTestApi(env: TestEnv, orderTimeouts: OrderTimeouts = SHORT_TIMEOUTS, settings?: ApiSettings): Promise<TestApi> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sandbox = createSandboxProvider({
    pool: env.pool,
    webhook: { url: `${url}/payments/webhook`, secret: TEST_WEBHOOK_SECRET, baseDelayMs: 100 },
    pollIntervalMs: 250,
  });
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: settings ?? testApiSettings(env, orderTimeouts), sandbox });
  server.on('request', app);
  return {
    url,
    sandbox,
    async close() {
      await sandbox.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}
