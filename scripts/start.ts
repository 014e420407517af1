import '../infra/tracing-preload';
import { createApp } from '../api/app';
import { apiSettingsFromConfig } from '../api/settings';
import { listen } from '../api/server';
import { ConfigError, loadConfig, loadDotEnv } from '../infra/config';
import { createPool } from '../infra/database';
import { createConfiguredPayments, publicBaseUrl } from '../infra/payments';
import { ensureReconciliationSchedule, reconciliationScheduleId } from '../infra/reconciliation-schedule';
import { orderlyShutdown } from '../infra/shutdown';
import { startStackChild } from '../infra/stack-child';
import { seedDemoShop } from './seed-data';
import { connectClient, connectWorkerConnection } from '../infra/temporal-connection';
import { createEngineWorker } from '../workers/worker';
import { createConfiguredEventConsumers } from '../infra/event-consumers';
import { eventDeliveryFromConfig, misplacedDispatcherWarnings, registerEventConsumers } from '../infra/event-dispatchers';
import { loggerFor, setRootLogger, type Logger } from '../infra/logger';
import { ensureReportSchedules, reportSchedulesFromConfig } from '../infra/report-schedules';
import { payloadCodecsFor } from '../infra/payload-codec';

/**
 * `npm start`: the whole engine on this machine. PostgreSQL (embedded unless DATABASE_URL) with
 * migrations, Temporal (dev server with UI unless TEMPORAL_ADDRESS), the worker and the API.
 * Ctrl-C stops all of it in order: the API stops accepting, the worker drains, the pools end, then the
 * servers stop (they run in a process group of their own, so the terminal's Ctrl-C reaches only us).
 */
let logger: Logger = loggerFor({ LOG_LEVEL: 'info', NODE_ENV: process.env.NODE_ENV ?? 'development' }, 'engine');
const log = (line: string) => logger.info(line);

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  logger = loggerFor(config, 'engine');
  setRootLogger(logger);
  const shutdown = orderlyShutdown(log);

  try {
    const stack = await startStackChild({ kind: 'dev', log });
    shutdown.add('PostgreSQL and Temporal', () => stack.stop());
    const target = {
      address: stack.temporalAddress,
      namespace: config.TEMPORAL_NAMESPACE,
      apiKey: config.TEMPORAL_API_KEY,
      tls: config.TEMPORAL_TLS,
      payloadCodecs: payloadCodecsFor(config.PAYLOAD_CODEC_KEYS),
    };

    const pool = createPool({ connectionString: stack.databaseUrl, max: config.DB_POOL_MAX, log });
    shutdown.add('database pool', () => pool.end());
    // The demo shop of the README's examples (idempotent); not in production.
    const demo = config.NODE_ENV === 'production' ? undefined : await seedDemoShop(pool);

    log('Bundling workflows and starting the worker');
    const metricsBindAddress = config.WORKER_METRICS_PORT ? `${config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}` : undefined;
    const workerConnection = await connectWorkerConnection(target, { logger, metricsBindAddress });
    shutdown.add('worker connection', () => workerConnection.close());
    // One provider for worker and API in this process; the API side sends the sandbox's webhooks.
    const payments = createConfiguredPayments(config, pool, { sendWebhooks: true });
    shutdown.add('payment providers', () => payments.close());
    // Buyer notifications and the NATS publisher, as configured: the same list in every worker process.
    const configuredConsumers = createConfiguredEventConsumers(config, pool);
    shutdown.add('event consumers', () => configuredConsumers.close());
    const eventConsumers = configuredConsumers.consumers;
    const worker = await createEngineWorker({
      payments: payments.provider,
      eventConsumers,
      connection: workerConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TASK_QUEUE,
      pool,
      auth: apiSettingsFromConfig(config).auth,
      payloadCodecs: target.payloadCodecs,
    });
    const workerRun = worker.run();
    workerRun.catch((error) => {
      logger.error({ err: error }, 'worker failed');
      void shutdown.stop('worker failure').then(() => process.exit(1));
    });
    shutdown.add('worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun.catch(() => undefined);
    });

    const temporal = await connectClient(target);
    shutdown.add('Temporal client', () => temporal.connection.close());
    const schedules = await ensureReportSchedules(temporal, reportSchedulesFromConfig(config));
    log(`Report schedules: ${schedules.join(', ')}`);
    const scheduleId = reconciliationScheduleId(config.TASK_QUEUE);
    await ensureReconciliationSchedule(temporal, { scheduleId, taskQueue: config.TASK_QUEUE, cron: config.RECONCILIATION_CRON, daysBack: config.RECONCILIATION_DAYS_BACK });
    log(`Reconciliation schedule "${scheduleId}" (${config.RECONCILIATION_CRON} UTC)`);
    const { misplaced } = await registerEventConsumers(temporal, { pool, taskQueue: config.TASK_QUEUE, consumers: eventConsumers, delivery: eventDeliveryFromConfig(config) });
    for (const warning of misplacedDispatcherWarnings(misplaced, config.TASK_QUEUE)) logger.warn(warning);
    const apiUrl = publicBaseUrl(config);
    const app = createApp({ pool, temporal, logger, sandbox: payments.sandbox, alipay: payments.alipay, wechatpay: payments.wechatpay, settings: apiSettingsFromConfig(config) });
    const http = await listen(app, config.API_PORT, config.API_HOST);
    shutdown.add('API', () => http.close());

    const api = `http://${config.API_HOST}:${config.API_PORT}`;
    logger.info(
      [
        'Order engine is running:',
        `  API            ${api}   (health: ${api}/healthz, readiness: ${api}/readyz, metrics: ${api}/metrics)`,
        `  API docs       ${api}/docs   (OpenAPI: ${api}/openapi.json)`,
        payments.sandbox
          ? `  Payments       sandbox provider at ${api}/sandbox (webhooks to ${apiUrl}/payments/webhook)`
          : `  Payments       ${config.PAYMENT_PROVIDER} (notifications to ${apiUrl}/payments/${config.PAYMENT_PROVIDER}/notify)`,
        `  Temporal       ${stack.temporalAddress}  namespace "${config.TEMPORAL_NAMESPACE}", task queue "${config.TASK_QUEUE}"`,
        `  Temporal UI    ${stack.temporalUiUrl ?? '(external cluster: use its own UI)'}`,
        `  SDK metrics    ${metricsBindAddress ? `http://${metricsBindAddress}/metrics` : '(off: WORKER_METRICS_PORT=0)'}`,
        `  PostgreSQL     ${redact(stack.databaseUrl)}`,
        `  Data folder    ${config.DATABASE_URL && config.TEMPORAL_ADDRESS ? '(not used: external servers)' : config.DATA_DIR}`,
        ...(demo
          ? [
              `  Demo shop      members mem_alice (5,000 points, coupon ${demo.aliceCouponId}) and mem_bob; SKUs sku_longjing_250g, sku_teapot_yixing, sku_mooncake_box`,
              `  Try it         TOKEN=$(npm run -s token -- customer mem_alice); see README "Try it"`,
            ]
          : []),
        'Press Ctrl-C to stop everything.',
      ].join('\n'),
    );
  } catch (error) {
    await shutdown.stop('start failed');
    throw error;
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

main().catch((error) => {
  if (error instanceof ConfigError) logger.fatal(error.message);
  else logger.fatal({ err: error }, 'Start failed');
  process.exit(1);
});
