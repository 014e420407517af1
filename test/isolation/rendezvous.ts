import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { smokeTestWorkflow } from '../../workflows';
import type { TestEnv } from '../support/harness';

/**
 * Shared body of the two isolation test files. Each announces itself in the run's scratch folder and
 * waits for the other (up to 45 s): both see each other only if the two files run at the same time.
 */
export async function proveParallelAndIsolated(env: TestEnv, me: string, other: string): Promise<{ sawOther: boolean; rows: string[] }> {
  const rendezvous = path.join(path.dirname(process.env.TEST_WORKFLOW_BUNDLE!), 'isolation');
  mkdirSync(rendezvous, { recursive: true });
  writeFileSync(path.join(rendezvous, me), env.databaseName);

  const worker = await env.startWorker();
  try {
    await env.temporal.workflow.execute(smokeTestWorkflow, {
      taskQueue: env.taskQueue,
      workflowId: `isolation-${me}-${env.id}`,
      args: [me],
    });
    const deadline = Date.now() + 45_000;
    while (!existsSync(path.join(rendezvous, other)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const sawOther = existsSync(path.join(rendezvous, other));
    // Let the other file's workflow finish too: then neither database may hold the other's row.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rows = await env.pool.query<{ message: string }>('SELECT message FROM ops.smoke_tests');
    return { sawOther, rows: rows.rows.map((row) => row.message) };
  } finally {
    await worker.stop();
  }
}
