import { WorkflowIdReusePolicy } from '@temporalio/common';
import { smokeTestWorkflow } from '../../workflows';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

test('a workflow runs on the real Temporal server and its activity writes to this file\'s database', async () => {
  const worker = await env.startWorker();
  try {
    const workflowId = `smoke-${env.id}`;
    const result = await env.temporal.workflow.execute(smokeTestWorkflow, {
      taskQueue: env.taskQueue,
      workflowId,
      args: ['hello from the harness'],
    });
    expect(result.workflowId).toBe(workflowId);

    const rows = await env.pool.query('SELECT workflow_id, message FROM ops.smoke_tests');
    expect(rows.rows).toEqual([{ workflow_id: workflowId, message: 'hello from the harness' }]);

    // The server really ran it: its history is there, with the activity's summary for ops.
    const history = await env.temporal.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = history.events!.filter((event) => event.activityTaskScheduledEventAttributes);
    expect(scheduled).toHaveLength(1);
  } finally {
    await worker.stop();
  }
});

test('running the same workflow id again records once (the activity is idempotent by workflow id)', async () => {
  const worker = await env.startWorker();
  try {
    const workflowId = `smoke-twice-${env.id}`;
    const first = await env.temporal.workflow.execute(smokeTestWorkflow, {
      taskQueue: env.taskQueue,
      workflowId,
      args: ['first'],
    });
    const second = await env.temporal.workflow.execute(smokeTestWorkflow, {
      taskQueue: env.taskQueue,
      workflowId,
      args: ['second'],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    expect(second.recordedAt).toBe(first.recordedAt);
    const rows = await env.pool.query('SELECT message FROM ops.smoke_tests WHERE workflow_id = $1', [workflowId]);
    expect(rows.rows).toEqual([{ message: 'first' }]);
  } finally {
    await worker.stop();
  }
});
