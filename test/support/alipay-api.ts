import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createActivities } from '../../activities';
import { createApp } from '../../api/app';
import { createAlipayProvider, type AlipayProvider } from '../../modules/finance';
import type { ApiSettings } from '../../api/settings';
import type { OrderTimeouts } from '../../workflows/order/definitions';
import { startAlipayGateway, type AlipayGateway } from './alipay-gateway';
import { SHORT_TIMEOUTS, testApiSettings } from './api';
import type { TestEnv } from './harness';

export interface AlipayTestEngine {
  url: string;
  gateway: AlipayGateway;
  alipay: AlipayProvider;
  close(): Promise<void>;
}

/**
 * The engine taking payments with Alipay, pointed at the local gateway the way it is pointed at
 * Alipay's sandbox (ALIPAY_GATEWAY): the real API on a loopback port (notifications come to it) and a
 * worker whose activities use the same adapter. No sandbox provider anywhere.
 */
export async function startAlipayEngine(env: TestEnv, orderTimeouts: OrderTimeouts = SHORT_TIMEOUTS, settings: Partial<ApiSettings> = {}): Promise<AlipayTestEngine> {
  const gateway = await startAlipayGateway({ retryDelayMs: 300, maxAttempts: 8 });
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const alipay = createAlipayProvider({
    appId: gateway.appId,
    privateKey: gateway.appPrivateKey,
    alipayPublicKey: gateway.alipayPublicKey,
    gateway: gateway.gatewayUrl,
    notifyUrl: `${url}/payments/alipay/notify`,
  });
  server.on('request', createApp({ pool: env.pool, temporal: env.temporal, settings: { ...testApiSettings(env, orderTimeouts), ...settings }, alipay, log: (line) => console.error(line) }));
  await env.startWorker({ activities: createActivities({ pool: env.pool, payments: alipay }) });
  return {
    url,
    gateway,
    alipay,
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
