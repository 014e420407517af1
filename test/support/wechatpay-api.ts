import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createActivities } from '../../activities';
import { createApp } from '../../api/app';
import { createWechatpayProvider, type WechatpayProvider } from '../../modules/finance';
import type { ApiSettings } from '../../api/settings';
import type { OrderTimeouts } from '../../workflows/order/definitions';
import { SHORT_TIMEOUTS, testApiSettings } from './api';
import type { TestEnv } from './harness';
import { startWechatpayGateway, type WechatpayGateway } from './wechatpay-gateway';

export interface WechatpayTestEngine {
  url: string;
  gateway: WechatpayGateway;
  wechatpay: WechatpayProvider;
  close(): Promise<void>;
}

/** The engine taking payments with WeChat Pay, pointed at the local gateway (WECHATPAY_BASE_URL). */
export async function startWechatpayEngine(env: TestEnv, orderTimeouts: OrderTimeouts = SHORT_TIMEOUTS, settings: Partial<ApiSettings> = {}): Promise<WechatpayTestEngine> {
  const gateway = await startWechatpayGateway({ retryDelayMs: 300, maxAttempts: 8 });
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const wechatpay = createWechatpayProvider({
    mchid: gateway.mchid,
    appid: gateway.appid,
    merchantSerial: gateway.merchantSerial,
    privateKey: gateway.merchantPrivateKey,
    platformSerial: gateway.platformSerial,
    platformPublicKey: gateway.platformPublicKey,
    apiV3Key: gateway.apiV3Key,
    baseUrl: gateway.baseUrl,
    notifyUrl: `${url}/payments/wechatpay/notify`,
  });
  server.on('request', createApp({ pool: env.pool, temporal: env.temporal, settings: { ...testApiSettings(env, orderTimeouts), ...settings }, wechatpay, log: (line) => console.error(line) }));
  await env.startWorker({ activities: createActivities({ pool: env.pool, payments: wechatpay }) });
  return {
    url,
    gateway,
    wechatpay,
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
