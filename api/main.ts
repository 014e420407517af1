import { Pool } from 'pg';
import { loadConfig, loadDotEnv } from '../infra/config';
import { payloadCodecsFor } from '../infra/payload-codec';
import { connectClient } from '../infra/temporal-connection';
import { createConfiguredPayments } from '../infra/payments';
import { createApp } from './app';
import { apiSettingsFromConfig } from './settings';
import { listen } from './server';

/** Standalone API process (`npm run api`, the Docker image's api service). Stateless: run as many as needed. */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new Error('The standalone API needs DATABASE_URL and TEMPORAL_ADDRESS (npm start provides both itself).');
  }
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: config.DB_POOL_MAX });
  const temporal = await connectClient({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    apiKey: config.TEMPORAL_API_KEY,
    tls: config.TEMPORAL_TLS,
    payloadCodecs: payloadCodecsFor(config.PAYLOAD_CODEC_KEYS),
  });
  // The sandbox payment provider (development only) lives with the API: its pay page and webhook
  // sender; every API process sweeps the shared outbox, so events written by workers are delivered too.
  const payments = createConfiguredPayments(config, pool, { sendWebhooks: true });
  const http = await listen(createApp({ pool, temporal, sandbox: payments.sandbox, alipay: payments.alipay, wechatpay: payments.wechatpay, settings: apiSettingsFromConfig(config) }), config.API_PORT, config.API_HOST);
  console.log(`API listening on http://${config.API_HOST}:${config.API_PORT}`);
  const shutdown = async () => {
    await http.close();
    await payments.close();
    await temporal.connection.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
