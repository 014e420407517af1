import { createSubscriptionService } from '../../modules/events/subscriptions';
import { dispatcherStatusQuery, dispatcherWorkflowId } from '../../workflows/events/definitions';
import { eventDispatcherWorkflow } from '../../workflows/events/dispatcher';
import { stackTracesPatchApplied } from '../../workers/workflow-stack-traces';
import { eventually } from '../support/api-server';
import { startEngineProcess, type EngineProcess } from '../support/engine-process';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * WORKFLOW_STACK_TRACES: our patch of @temporalio/worker (patches/) is applied by npm ci; the worker
 * process (workers/main.ts) starts its workflow thread without the SDK's promise hook by default, and
 * its stack-trace query says so; told `on`, it answers where its runs wait, as the Temporal UI shows.
 * Real processes: the setting reaches the workflow thread through the process's environment, which
 * a jest test file cannot change for the threads it starts.
 */
let env: TestEnv;
const workers: Partial<Record<'on' | 'off', EngineProcess>> = {};
const queue = (traces: 'on' | 'off') => `${env.taskQueue}-traces-${traces}`;

beforeAll(async () => {
  env = await createTestEnv();
  for (const traces of ['on', 'off'] as const) {
    const worker = startEngineProcess('workers/main.ts', {
      LOG_FORMAT: 'json',
      DATABASE_URL: env.databaseUrl,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
      TASK_QUEUE: queue(traces),
      WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE!,
      JWT_SECRET: 'stack-traces-jwt-secret-0123',
      PAYMENT_WEBHOOK_SECRET: 'stack-traces-webhook-secret-0123',
      WORKER_METRICS_PORT: '0',
      WORKER_HEALTH_PORT: '0',
      // `off` is the default: only `on` is told.
      ...(traces === 'on' ? { WORKFLOW_STACK_TRACES: 'on' } : {}),
    });
    workers[traces] = worker;
  }
  await Promise.all(Object.values(workers).map((worker) => worker.waitForOutput(/worker polling task queue/)));
});
afterAll(async () => {
  await Promise.all(Object.values(workers).map((worker) => worker.stop()));
  await env?.close();
});

/** A dispatcher idle on its poll: a run that waits, on the given worker's queue. */
async function waitingRun(traces: 'on' | 'off') {
  const subscriptions = createSubscriptionService({ pool: env.pool, defaultMaxAttempts: 3 });
  const subscription = await subscriptions.create({ url: 'http://127.0.0.1:9/hook', eventTypes: ['*'], secret: 'stack-traces-secret-0123456789' }, 'test:admin');
  const handle = await env.temporal.workflow.start(eventDispatcherWorkflow, {
    workflowId: `${dispatcherWorkflowId(subscription.id)}-${traces}`,
    taskQueue: queue(traces),
    args: [{ subscriptionId: subscription.id, afterSeq: 0, timing: { pollMs: 600_000, retryInitialMs: 1_000, retryMaxMs: 10_000 } }],
  });
  await eventually(async () => ((await handle.query(dispatcherStatusQuery)).afterSeq === 0 ? true : undefined), 30_000, 'the dispatcher polling');
  return handle;
}

test('npm ci applied the patch of @temporalio/worker, and the workers say which setting they run with', () => {
  expect(stackTracesPatchApplied()).toBe(true);
  expect(workers.off!.output()).toMatch(/"workflowStackTraces":"off"/);
  expect(workers.on!.output()).toMatch(/"workflowStackTraces":"on"/);
  expect(workers.off!.output()).not.toMatch(/has no effect/);
});

test('with stack traces on, the stack-trace query shows where the run waits', async () => {
  const handle = await waitingRun('on');
  // Until its first read of events returns the run waits in that activity (a stack of nextEvents
  // alone); then it waits on its poll, in the workflow function itself.
  const stack = await eventually(async () => {
    const trace = await handle.query<string>('__stack_trace');
    return /eventDispatcherWorkflow/.test(trace) ? trace : undefined;
  }, 30_000, 'a stack trace of the run waiting on its poll');
  expect(stack).toMatch(/workflows\/events\/dispatcher\.ts/);
  await handle.terminate('test done');
});

test('by default the stack-trace query answers that traces are off, and the run is unaffected', async () => {
  const handle = await waitingRun('off');
  await expect(handle.query('__stack_trace')).rejects.toThrow(/stack traces are not enabled/);
  expect((await handle.query(dispatcherStatusQuery)).afterSeq).toBe(0);
  await handle.terminate('test done');
});
