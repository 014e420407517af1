import '../infra/tracing-preload';
import { loadConfig, loadDotEnv } from '../infra/config';
import { createPool } from '../infra/database';
import { loggerFor, setRootLogger } from '../infra/logger';
import { payloadCodecsFor } from '../infra/payload-codec';
import { orderlyShutdown } from '../infra/shutdown';
import { activeTracing } from '../infra/tracing';
import { connectClient } from '../infra/temporal-connection';
import { ensureReportSchedules, reportSchedulesFromConfig } from '../infra/report-schedules';
import { createConfiguredPayments } from '../infra/payments';
import { createApp } from './app';
import { apiSettingsFromConfig } from './settings';
import { listen } from './server';

/** Until the config is read (a config error is reported through it). */
const bootLogger = loggerFor({ LOG_LEVEL: 'info', NODE_ENV: process.env.NODE_ENV ?? 'development' }, 'api');

/** Standalone API process (`npm run api`, the Docker image's api service). Stateless: run as many as needed. */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const logger = loggerFor(config, 'api');
  setRootLogger(logger);
  const log = (line: string) => logger.info(line);
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new Error('The standalone API needs DATABASE_URL and TEMPORAL_ADDRESS (npm start provides both itself).');
  }
  // On SIGINT/SIGTERM: stop accepting requests, then close the connections (last started, first stopped).
  const shutdown = orderlyShutdown(log);
  shutdown.add('tracing', () => activeTracing()?.shutdown());
  const pool = createPool({ connectionString: config.DATABASE_URL, max: config.DB_POOL_MAX, log: (line) => logger.warn(line) });
  shutdown.add('database pool', () => pool.end());
  const temporal = await connectClient({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    apiKey: config.TEMPORAL_API_KEY,
    tls: config.TEMPORAL_TLS,
    payloadCodecs: payloadCodecsFor(config.PAYLOAD_CODEC_KEYS),
  });
  shutdown.add('Temporal client', () => temporal.connection.close());
  // Every API process makes sure the report schedules exist (creating one that exists is a no-op).
  await ensureReportSchedules(temporal, reportSchedulesFromConfig(config));
  // The sandbox payment provider (development only) lives with the API: its pay page and webhook
  // sender; every API process sweeps the shared outbox, so events written by workers are delivered too.
  const payments = createConfiguredPayments(config, pool, { sendWebhooks: true });
  shutdown.add('payment providers', () => payments.close());
  const app = createApp({ pool, temporal, sandbox: payments.sandbox, alipay: payments.alipay, wechatpay: payments.wechatpay, logger, settings: apiSettingsFromConfig(config) });
  const http = await listen(app, config.API_PORT, config.API_HOST);
  shutdown.add('HTTP listener', () => http.close());
  logger.info({ tracing: Boolean(activeTracing()) }, `API listening on http://${config.API_HOST}:${config.API_PORT}`);
}

main().catch((error) => {
  bootLogger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
  process.exit(1);
});
