import type { Pool } from 'pg';
import { createPool } from '../../infra/database';
import { loadConfig } from '../../infra/config';
import { createConfiguredPayments } from '../../infra/payments';
import { connectWorkerConnection } from '../../infra/temporal-connection';
import { createEngineWorker, WORKER_ROLES, type WorkerRole } from '../../workers/worker';

/**
 * The chaos run's worker process: workers/main.ts, except that it loads the workflow bundle the run
 * built once (CHAOS_WORKFLOW_BUNDLE) instead of bundling at every one of its many restarts. The
 * engine's own createEngineWorker, so the fault injector (CHAOS_FAULT_RATE) is wired the same way.
 * Like workers/main.ts it adds no pool 'error' listener: how the real process meets a PostgreSQL
 * restart is part of what the run observes.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const bundle = process.env.CHAOS_WORKFLOW_BUNDLE;
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS || !bundle) throw new Error('needs DATABASE_URL, TEMPORAL_ADDRESS and CHAOS_WORKFLOW_BUNDLE');
  const pool = createPool({ connectionString: config.DATABASE_URL, max: config.DB_POOL_MAX });
  const connection = await connectWorkerConnection({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE });
  // The sandbox provider (PAYMENT_PROVIDER defaults to it outside production); the API sends its webhooks.
  const payments = createConfiguredPayments(config, pool, { sendWebhooks: false });
  const worker = await createEngineWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TASK_QUEUE,
    pool,
    payments: payments.provider,
    workflowSource: { workflowBundle: { codePath: bundle } },
    overrides: { shutdownGraceTime: '2s', maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS, workflowThreadPoolSize: config.WORKER_WORKFLOW_THREADS },
    role: workerRole(process.env.WORKER_ROLE),
    workflowStackTraces: config.WORKFLOW_STACK_TRACES === 'on',
  });
  console.log(`worker polling task queues ${worker.taskQueues.join(', ')}`);
  process.once('SIGTERM', () => worker.shutdown());
  process.once('SIGINT', () => worker.shutdown());
  await worker.run();
  await connection.close();
  await payments.close();
  await pool.end();
}

/** WORKER_ROLE (bench/orders runs one process per module queue): all, orders, finance, inventory or member. */
function workerRole(value: string | undefined): WorkerRole {
  if (!value) return 'all';
  if (!(WORKER_ROLES as readonly string[]).includes(value)) throw new Error(`WORKER_ROLE=${value}: one of ${WORKER_ROLES.join(', ')}`);
  return value as WorkerRole;
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
