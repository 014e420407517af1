import { loadConfig, loadDotEnv } from '../infra/config';
import { createPool } from '../infra/database';
import { createConfiguredPayments } from '../infra/payments';
import { payloadCodecsFor } from '../infra/payload-codec';
import { ensureReconciliationSchedule, reconciliationScheduleId } from '../infra/reconciliation-schedule';
import { orderlyShutdown } from '../infra/shutdown';
import { connectClient, connectWorkerConnection } from '../infra/temporal-connection';
import { createEngineWorker } from './worker';
import { apiSettingsFromConfig } from '../api/settings';

/**
 * Standalone worker process (`npm run worker`, the Docker image's worker service). Needs DATABASE_URL
 * and TEMPORAL_ADDRESS; scale it out by running more of them.
 */
const log = (line: string) => console.log(`[worker] ${line}`);

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new Error('The standalone worker needs DATABASE_URL and TEMPORAL_ADDRESS (npm start provides both itself).');
  }
  // On SIGINT/SIGTERM: stop polling and let in-flight tasks finish, then close the connections.
  const shutdown = orderlyShutdown(log);
  const pool = createPool({ connectionString: config.DATABASE_URL, max: config.DB_POOL_MAX, log });
  shutdown.add('database pool', () => pool.end());
  const target = { address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, apiKey: config.TEMPORAL_API_KEY, tls: config.TEMPORAL_TLS };
  const connection = await connectWorkerConnection(target);
  shutdown.add('Temporal connection', () => connection.close());
  // Every worker makes sure the daily reconciliation schedule exists (idempotent).
  const client = await connectClient(target);
  await ensureReconciliationSchedule(client, {
    scheduleId: reconciliationScheduleId(config.TASK_QUEUE),
    taskQueue: config.TASK_QUEUE,
    cron: config.RECONCILIATION_CRON,
    daysBack: config.RECONCILIATION_DAYS_BACK,
  });
  await client.connection.close();
  const payments = createConfiguredPayments(config, pool, { sendWebhooks: false });
  shutdown.add('payment providers', () => payments.close());
  const worker = await createEngineWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TASK_QUEUE,
    pool,
    payments: payments.provider,
    auth: apiSettingsFromConfig(config).auth,
    payloadCodecs: payloadCodecsFor(config.PAYLOAD_CODEC_KEYS),
    workflowSource: config.WORKFLOW_BUNDLE ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE } } : undefined,
  });
  const running = worker.run();
  shutdown.add('worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  log(`polling task queue "${config.TASK_QUEUE}" on ${config.TEMPORAL_ADDRESS}`);
  try {
    await running;
  } catch (error) {
    log(`worker failed: ${error instanceof Error ? error.message : error}`);
    await shutdown.stop('worker failure');
    process.exit(1);
  }
  await shutdown.stop('worker stopped');
}

main().catch((error) => {
  console.error(`[worker] start failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
