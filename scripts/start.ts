import { Pool } from 'pg';
import { createApp } from '../api/app';
import { apiSettingsFromConfig } from '../api/settings';
import { listen } from '../api/server';
import { ConfigError, loadConfig, loadDotEnv } from '../infra/config';
import { createConfiguredPayments, publicBaseUrl } from '../infra/payments';
import { ensureReconciliationSchedule, reconciliationScheduleId } from '../infra/reconciliation-schedule';
import { seedDemoShop } from './seed-data';
import { startDevStack } from '../infra/stack';
import { connectClient, connectWorkerConnection } from '../infra/temporal-connection';
import { createEngineWorker } from '../workers/worker';
import { payloadCodecsFor } from '../infra/payload-codec';

/**
 * `npm start`: the whole engine on this machine. PostgreSQL (embedded unless DATABASE_URL) with
 * migrations, Temporal (dev server with UI unless TEMPORAL_ADDRESS), the worker and the API.
 * Ctrl-C stops all of it, servers included.
 */
const log = (line: string) => console.log(`[engine] ${line}`);

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const cleanups: (() => Promise<unknown>)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) =>
    (stopping ??= (async () => {
      log(`${reason}: shutting down`);
      for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log(`cleanup failed: ${error}`));
      log('stopped');
    })());
  process.once('SIGINT', () => void stop('SIGINT').then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop('SIGTERM').then(() => process.exit(0)));

  try {
    const stack = await startDevStack(config, log);
    cleanups.push(() => stack.stop());
    const target = {
      address: stack.temporalAddress,
      namespace: config.TEMPORAL_NAMESPACE,
      apiKey: config.TEMPORAL_API_KEY,
      tls: config.TEMPORAL_TLS,
      payloadCodecs: payloadCodecsFor(config.PAYLOAD_CODEC_KEYS),
    };

    const pool = new Pool({ connectionString: stack.databaseUrl, max: config.DB_POOL_MAX });
    cleanups.push(() => pool.end());
    // The demo shop of the README's examples (idempotent); not in production.
    const demo = config.NODE_ENV === 'production' ? undefined : await seedDemoShop(pool);

    log('Bundling workflows and starting the worker');
    const workerConnection = await connectWorkerConnection(target);
    cleanups.push(() => workerConnection.close());
    // One provider for worker and API in this process; the API side sends the sandbox's webhooks.
    const payments = createConfiguredPayments(config, pool, { sendWebhooks: true });
    cleanups.push(() => payments.close());
    const worker = await createEngineWorker({
      payments: payments.provider,
      connection: workerConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TASK_QUEUE,
      pool,
      payloadCodecs: target.payloadCodecs,
    });
    const workerRun = worker.run();
    workerRun.catch((error) => {
      log(`worker failed: ${error}`);
      void stop('worker failure').then(() => process.exit(1));
    });
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun.catch(() => undefined);
    });

    const temporal = await connectClient(target);
    cleanups.push(() => temporal.connection.close());
    const scheduleId = reconciliationScheduleId(config.TASK_QUEUE);
    await ensureReconciliationSchedule(temporal, { scheduleId, taskQueue: config.TASK_QUEUE, cron: config.RECONCILIATION_CRON, daysBack: config.RECONCILIATION_DAYS_BACK });
    log(`Reconciliation schedule "${scheduleId}" (${config.RECONCILIATION_CRON} UTC)`);
    const apiUrl = publicBaseUrl(config);
    const app = createApp({ pool, temporal, log, sandbox: payments.sandbox, alipay: payments.alipay, wechatpay: payments.wechatpay, settings: apiSettingsFromConfig(config) });
    const http = await listen(app, config.API_PORT, config.API_HOST);
    cleanups.push(() => http.close());

    const api = `http://${config.API_HOST}:${config.API_PORT}`;
    console.log(
      [
        '',
        'Order engine is running:',
        `  API            ${api}   (health: ${api}/healthz)`,
        `  API docs       ${api}/docs   (OpenAPI: ${api}/openapi.json)`,
        payments.sandbox
          ? `  Payments       sandbox provider at ${api}/sandbox (webhooks to ${apiUrl}/payments/webhook)`
          : `  Payments       ${config.PAYMENT_PROVIDER} (notifications to ${apiUrl}/payments/${config.PAYMENT_PROVIDER}/notify)`,
        `  Temporal       ${stack.temporalAddress}  namespace "${config.TEMPORAL_NAMESPACE}", task queue "${config.TASK_QUEUE}"`,
        `  Temporal UI    ${stack.temporalUiUrl ?? '(external cluster: use its own UI)'}`,
        `  PostgreSQL     ${redact(stack.databaseUrl)}`,
        `  Data folder    ${config.DATABASE_URL && config.TEMPORAL_ADDRESS ? '(not used: external servers)' : config.DATA_DIR}`,
        ...(demo
          ? [
              `  Demo shop      members mem_alice (5,000 points, coupon ${demo.aliceCouponId}) and mem_bob; SKUs sku_longjing_250g, sku_teapot_yixing, sku_mooncake_box`,
              `  Try it         TOKEN=$(npm run -s token -- customer mem_alice); see README "Try it"`,
            ]
          : []),
        'Press Ctrl-C to stop everything.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    await stop('start failed');
    throw error;
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : `Start failed: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
});
