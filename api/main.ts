import { loadConfig, loadDotEnv } from '../infra/config';
import { createPool } from '../infra/database';
import { payloadCodecsFor } from '../infra/payload-codec';
import { orderlyShutdown } from '../infra/shutdown';
import { connectClient } from '../infra/temporal-connection';
import { createConfiguredPayments } from '../infra/payments';
import { createApp } from './app';
import { apiSettingsFromConfig } from './settings';
import { listen } from './server';

/** Standalone API process (`npm run api`, the Docker image's api service). Stateless: run as many as needed. */
const log = (line: string) => console.log(`[api] ${line}`);

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new Error('The standalone API needs DATABASE_URL and TEMPORAL_ADDRESS (npm start provides both itself).');
  }
  // On SIGINT/SIGTERM: stop accepting requests, then close the connections (last started, first stopped).
  const shutdown = orderlyShutdown(log);
  const pool = createPool({ connectionString: config.DATABASE_URL, max: config.DB_POOL_MAX, log });
  shutdown.add('database pool', () => pool.end());
  const temporal = await connectClient({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    apiKey: config.TEMPORAL_API_KEY,
    tls: config.TEMPORAL_TLS,
    payloadCodecs: payloadCodecsFor(config.PAYLOAD_CODEC_KEYS),
  });
  shutdown.add('Temporal client', () => temporal.connection.close());
  // The sandbox payment provider (development only) lives with the API: its pay page and webhook
  // sender; every API process sweeps the shared outbox, so events written by workers are delivered too.
  const payments = createConfiguredPayments(config, pool, { sendWebhooks: true });
  shutdown.add('payment providers', () => payments.close());
  const app = createApp({ pool, temporal, log, sandbox: payments.sandbox, alipay: payments.alipay, wechatpay: payments.wechatpay, settings: apiSettingsFromConfig(config) });
  const http = await listen(app, config.API_PORT, config.API_HOST);
  shutdown.add('HTTP listener', () => http.close());
  log(`listening on http://${config.API_HOST}:${config.API_PORT}`);
}

main().catch((error) => {
  console.error(`[api] start failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
