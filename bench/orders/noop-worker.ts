import { NativeConnection, Worker } from '@temporalio/worker';
import { setWorkflowStackTraces } from '../../workers/workflow-stack-traces';

/** The no-op limit's worker process (bench/orders): the no-op workflow and a no-op activity on NOOP_TASK_QUEUE. */
async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS;
  const taskQueue = process.env.NOOP_TASK_QUEUE;
  if (!address || !taskQueue) throw new Error('needs TEMPORAL_ADDRESS and NOOP_TASK_QUEUE');
  // The same SDK setting as the engine's workers (WORKFLOW_STACK_TRACES, off by default): the limit of the same engine.
  setWorkflowStackTraces(process.env.WORKFLOW_STACK_TRACES === 'on');
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./noop-workflow'),
    activities: { noop: async () => undefined },
    shutdownGraceTime: '2s',
    // The same threads as the engine's workers (WORKER_WORKFLOW_THREADS, from the bench's environment).
    ...(process.env.WORKER_WORKFLOW_THREADS ? { workflowThreadPoolSize: Number(process.env.WORKER_WORKFLOW_THREADS) } : {}),
  });
  console.log(`noop worker polling task queue "${taskQueue}"`);
  process.once('SIGTERM', () => worker.shutdown());
  process.once('SIGINT', () => worker.shutdown());
  await worker.run();
  await connection.close();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
