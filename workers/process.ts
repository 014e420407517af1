import '../infra/tracing-preload';
import { loadConfig, loadDotEnv } from '../infra/config';
import { createPool } from '../infra/database';
import { loggerFor, setRootLogger } from '../infra/logger';
import { createConfiguredEventConsumers, type ConfiguredEventConsumers } from '../infra/event-consumers';
import { eventDeliveryFromConfig, misplacedDispatcherWarnings, registerEventConsumers } from '../infra/event-dispatchers';
import { createConfiguredPayments } from '../infra/payments';
import { payloadCodecsFor } from '../infra/payload-codec';
import { ensureReconciliationSchedule, reconciliationScheduleId } from '../infra/reconciliation-schedule';
import { orderlyShutdown } from '../infra/shutdown';
import { activeTracing } from '../infra/tracing';
import { connectClient, connectWorkerConnection } from '../infra/temporal-connection';
import { startWorkerHealthServer } from './health-server';
import { stackTracesPatchApplied } from './workflow-stack-traces';
import { createEngineWorker, type WorkerRole } from './worker';
import { apiSettingsFromConfig } from '../api/settings';

/**
 * A standalone worker process of one role (workers/main.ts serves every task queue; workers/orders.ts,
 * finance.ts, inventory.ts and member.ts one queue each). Needs DATABASE_URL and TEMPORAL_ADDRESS;
 * scale it out by running more of them. Serves the SDK's Prometheus metrics on WORKER_METRICS_PORT and
 * its health + business metrics on WORKER_HEALTH_PORT (0 turns either off).
 */

/** Until the config is read (a config error is reported through it). */
const bootLogger = loggerFor({ LOG_LEVEL: 'info', NODE_ENV: process.env.NODE_ENV ?? 'development' }, 'worker');

export function runWorkerProcess(role: WorkerRole): void {
  main(role).catch((error) => {
    bootLogger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}

async function main(role: WorkerRole): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const logger = loggerFor(config, 'worker');
  setRootLogger(logger);
  const log = (line: string) => logger.info(line);
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new Error('The standalone worker needs DATABASE_URL and TEMPORAL_ADDRESS (npm start provides both itself).');
  }
  // On SIGINT/SIGTERM: stop polling and let in-flight tasks finish, then close the connections.
  const shutdown = orderlyShutdown(log);
  shutdown.add('tracing', () => activeTracing()?.shutdown());
  const pool = createPool({ connectionString: config.DATABASE_URL, max: config.DB_POOL_MAX, log: (line) => logger.warn(line) });
  shutdown.add('database pool', () => pool.end());
  const target = { address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, apiKey: config.TEMPORAL_API_KEY, tls: config.TEMPORAL_TLS };
  const metricsBindAddress = config.WORKER_METRICS_PORT ? `${config.WORKER_METRICS_HOST}:${config.WORKER_METRICS_PORT}` : undefined;
  const connection = await connectWorkerConnection(target, { logger, metricsBindAddress });
  shutdown.add('Temporal connection', () => connection.close());
  // Every worker of the orders queue makes sure the daily reconciliation schedule exists (idempotent).
  let eventConsumers: ConfiguredEventConsumers | undefined;
  if (role === 'all' || role === 'orders') {
    const client = await connectClient(target);
    await ensureReconciliationSchedule(client, {
      scheduleId: reconciliationScheduleId(config.TASK_QUEUE),
      taskQueue: config.TASK_QUEUE,
      cron: config.RECONCILIATION_CRON,
      daysBack: config.RECONCILIATION_DAYS_BACK,
    });
    // Buyer notifications and the NATS publisher, as configured: the same list in every orders-queue
    // worker, where the event dispatchers' delivery activities run.
    eventConsumers = createConfiguredEventConsumers(config, pool);
    shutdown.add('event consumers', () => eventConsumers!.close());
    const { misplaced } = await registerEventConsumers(client, { pool, taskQueue: config.TASK_QUEUE, consumers: eventConsumers.consumers, delivery: eventDeliveryFromConfig(config) });
    for (const warning of misplacedDispatcherWarnings(misplaced, config.TASK_QUEUE)) logger.warn(warning);
    await client.connection.close();
  }
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
    eventConsumers: eventConsumers?.consumers,
    subscriberNetwork: eventDeliveryFromConfig(config).network,
    role,
    overrides: { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS, workflowThreadPoolSize: config.WORKER_WORKFLOW_THREADS },
    workflowStackTraces: config.WORKFLOW_STACK_TRACES === 'on',
  });
  if (config.WORKFLOW_STACK_TRACES === 'off' && !stackTracesPatchApplied()) {
    logger.warn('WORKFLOW_STACK_TRACES=off has no effect: the @temporalio/worker patch in patches/ is not applied (run npm ci)');
  }
  const health = config.WORKER_HEALTH_PORT ? await startWorkerHealthServer(worker, config.WORKER_METRICS_HOST, config.WORKER_HEALTH_PORT) : undefined;
  if (health) shutdown.add('health endpoint', () => health.close());
  const running = worker.run();
  shutdown.add('worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    logger.info('worker drained and stopped');
  });
  logger.info(
    {
      role,
      taskQueues: worker.taskQueues,
      temporal: config.TEMPORAL_ADDRESS,
      sdkMetrics: metricsBindAddress ? `http://${metricsBindAddress}/metrics` : null,
      health: health ? `${health.url}/healthz` : null,
      tracing: Boolean(activeTracing()),
      workflowStackTraces: config.WORKFLOW_STACK_TRACES,
    },
    `worker polling task queue "${worker.taskQueues[0]}"`,
  );
  try {
    await running;
  } catch (error) {
    logger.error({ err: error }, 'worker failed');
    await shutdown.stop('worker failure');
    process.exit(1);
  }
  await shutdown.stop('worker stopped');
}
