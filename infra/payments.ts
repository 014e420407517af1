import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { createAlipayProvider, createWechatpayProvider, type AlipayProvider, type PaymentProvider, type WechatpayProvider } from '../modules/finance';
import type { SandboxProvider } from '../modules/finance/sandbox';
import { loadSandboxModule } from './dev-tools';
import type { Config } from './config';

/** The payment provider the configuration names, for one process (API or worker). */
export interface ConfiguredPayments {
  provider: PaymentProvider;
  /** Only outside production, when PAYMENT_PROVIDER=sandbox (its pay page and webhooks live in the API). */
  sandbox?: SandboxProvider;
  alipay?: AlipayProvider;
  wechatpay?: WechatpayProvider;
  close(): Promise<void>;
}

export function publicBaseUrl(config: Config): string {
  return config.PUBLIC_BASE_URL ?? `http://${config.API_HOST}:${config.API_PORT}`;
}

/**
 * `sendWebhooks`: the API process delivers the sandbox's signed webhooks (and sweeps the outbox the
 * workers' sandbox writes to); a worker only records them.
 */
export function createConfiguredPayments(config: Config, pool: Pool, options: { sendWebhooks: boolean }): ConfiguredPayments {
  if (config.PAYMENT_PROVIDER === 'alipay') {
    const alipay = createAlipayProvider({
      appId: config.ALIPAY_APP_ID!,
      privateKey: secret(config.ALIPAY_PRIVATE_KEY, config.ALIPAY_PRIVATE_KEY_FILE, 'ALIPAY_PRIVATE_KEY'),
      alipayPublicKey: secret(config.ALIPAY_PUBLIC_KEY, config.ALIPAY_PUBLIC_KEY_FILE, 'ALIPAY_PUBLIC_KEY'),
      gateway: config.ALIPAY_GATEWAY,
      notifyUrl: config.ALIPAY_NOTIFY_URL ?? `${publicBaseUrl(config)}/payments/alipay/notify`,
    });
    return { provider: alipay, alipay, close: async () => undefined };
  }
  if (config.PAYMENT_PROVIDER === 'wechatpay') {
    const wechatpay = createWechatpayProvider({
      mchid: config.WECHATPAY_MCHID!,
      appid: config.WECHATPAY_APPID!,
      merchantSerial: config.WECHATPAY_MERCHANT_SERIAL!,
      privateKey: secret(config.WECHATPAY_PRIVATE_KEY, config.WECHATPAY_PRIVATE_KEY_FILE, 'WECHATPAY_PRIVATE_KEY'),
      platformSerial: config.WECHATPAY_PLATFORM_SERIAL!,
      platformPublicKey: secret(config.WECHATPAY_PLATFORM_PUBLIC_KEY, config.WECHATPAY_PLATFORM_PUBLIC_KEY_FILE, 'WECHATPAY_PLATFORM_PUBLIC_KEY'),
      apiV3Key: config.WECHATPAY_APIV3_KEY!,
      baseUrl: config.WECHATPAY_BASE_URL,
      notifyUrl: config.WECHATPAY_NOTIFY_URL ?? `${publicBaseUrl(config)}/payments/wechatpay/notify`,
    });
    return { provider: wechatpay, wechatpay, close: async () => undefined };
  }
  if (config.PAYMENT_PROVIDER !== 'sandbox' || config.NODE_ENV === 'production') {
    // loadConfig refuses these already; this keeps a hand-built Config from reaching the sandbox.
    throw new Error(`PAYMENT_PROVIDER=${config.PAYMENT_PROVIDER} is not available with NODE_ENV=${config.NODE_ENV}`);
  }
  // Not production here (refused just above).
  const sandbox = loadSandboxModule({ production: false }).createSandboxProvider({
    pool,
    ...(options.sendWebhooks
      ? { webhook: { url: `${publicBaseUrl(config)}/payments/webhook`, secret: config.PAYMENT_WEBHOOK_SECRET }, pollIntervalMs: 1_000 }
      : {}),
  });
  return { provider: sandbox, sandbox, close: () => sandbox.close() };
}

/** A key given inline or as a file; never logged. */
function secret(inline: string | undefined, file: string | undefined, variable: string): string {
  if (inline) return inline.replace(/\\n/g, '\n');
  try {
    return readFileSync(file!, 'utf8');
  } catch (error) {
    throw new Error(`${variable}_FILE: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
