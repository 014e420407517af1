import { Pool } from 'pg';
import { loadConfig, loadDotEnv } from '../infra/config';
import { createConfiguredPayments } from '../infra/payments';
import { payloadCodecsFor } from '../infra/payload-codec';
import { ensureReconciliationSchedule, reconciliationScheduleId } from '../infra/reconciliation-schedule';
import { connectClient, connectWorkerConnection } from '../infra/temporal-connection';
import { createEngineWorker } from './worker';

/**
 * Standalone worker process (`npm run worker`, the Docker image's worker service). Needs DATABASE_URL
 * and TEMPORAL_ADDRESS; scale it out by running more of them.
 */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new Error('The standalone worker needs DATABASE_URL and TEMPORAL_ADDRESS (npm start provides both itself).');
  }
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: config.DB_POOL_MAX });
  const target = { address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, apiKey: config.TEMPORAL_API_KEY, tls: config.TEMPORAL_TLS };
  const connection = await connectWorkerConnection(target);
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
  const worker = await createEngineWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TASK_QUEUE,
    pool,
    payments: payments.provider,
    payloadCodecs: payloadCodecsFor(config.PAYLOAD_CODEC_KEYS),
  });
  console.log(`worker polling task queue "${config.TASK_QUEUE}" on ${config.TEMPORAL_ADDRESS}`);
  // On SIGINT/SIGTERM stop polling and let in-flight tasks finish; run() resolves once drained.
  process.once('SIGINT', () => worker.shutdown());
  process.once('SIGTERM', () => worker.shutdown());
  await worker.run();
  await connection.close();
  await payments.close();
  await pool.end();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
