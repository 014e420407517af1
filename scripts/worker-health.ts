import os from 'node:os';
import { temporal } from '@temporalio/proto';
import { loadConfig, loadDotEnv } from '../infra/config';
import { connectClient } from '../infra/temporal-connection';

/**
 * The worker container's healthcheck (`node dist/scripts/worker-health.js`): exits 0 when a worker of
 * this host (SDK identity `<pid>@<hostname>`) has polled the task queue for workflow and for activity
 * tasks within the last two minutes, else 1 with the reason. It asks Temporal, so it proves what
 * matters: the worker is connected and taking work.
 */
const RECENT_MS = 120_000;

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.TEMPORAL_ADDRESS) throw new Error('TEMPORAL_ADDRESS is not set');
  const client = await connectClient({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    apiKey: config.TEMPORAL_API_KEY,
    tls: config.TEMPORAL_TLS,
  });
  try {
    const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;
    for (const [kind, taskQueueType] of [['workflow', TASK_QUEUE_TYPE_WORKFLOW], ['activity', TASK_QUEUE_TYPE_ACTIVITY]] as const) {
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: { name: config.TASK_QUEUE },
        taskQueueType,
      });
      const ours = (pollers ?? []).filter((poller) => poller.identity?.endsWith(`@${os.hostname()}`));
      const lastPoll = Math.max(0, ...ours.map((poller) => Number(poller.lastAccessTime?.seconds ?? 0) * 1000));
      if (Date.now() - lastPoll > RECENT_MS) throw new Error(`no ${kind} poll from ${os.hostname()} on "${config.TASK_QUEUE}" in ${RECENT_MS / 1000}s`);
    }
  } finally {
    await client.connection.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`unhealthy: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  },
);
