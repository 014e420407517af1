import { Client, Connection } from '@temporalio/client';
import { activityInfo } from '@temporalio/activity';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { placementAnswerUpdate } from './update-shapes/workflows';

/**
 * What patch order-updates-after-local-steps works around, on the SDK itself (1.24). A local activity
 * retried past 80% of the workflow task's timeout has the SDK heartbeat the task; an update sent
 * meanwhile arrives in the next task and, as set before, is answered while the local activity still
 * runs. That history does not replay: a nondeterminism error ("Timer machine does not handle this
 * event ... WorkflowExecutionUpdateCompleted"), so the run is stuck once its worker changes. Held
 * (`setUpdateHandler`), the update answers after the local activity, and the history replays.
 *
 * If the first expectation ever fails, the SDK replays that shape now: the guard may go (a new patch).
 */
jest.setTimeout(90_000);

const FAILING_MS = 9_000;
let connection: NativeConnection;
let client: Client;
const taskQueue = `update-shapes-${process.pid}-${Date.now()}`;
let workflowBundle: WorkflowBundle;
const failingUntil = new Map<string, number>();
/** Runs whose projection has failed at least once: their first workflow task is running, retrying it. */
const retrying = new Set<string>();

beforeAll(async () => {
  connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  client = new Client({ connection: await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! }) });
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./update-shapes/workflows') });
});
afterAll(async () => {
  await connection.close();
  await client.connection.close();
});

/** Runs the shape once (held or not) and returns its history and whether it replays. */
async function runShape(held: boolean) {
  const workflowId = `update-shape-${held ? 'held' : 'unheld'}-${Date.now()}`;
  failingUntil.set(workflowId, Date.now() + FAILING_MS);
  const handle = await client.workflow.start('placementShapeWorkflow', { workflowId, taskQueue, args: [held] });
  // Sent while the first task retries the projection, so that it arrives in the task after the heartbeat.
  while (!retrying.has(workflowId)) await new Promise((resolve) => setTimeout(resolve, 50));
  const answer = await handle.executeUpdate(placementAnswerUpdate);
  await handle.result();
  const history = await handle.fetchHistory();
  const replay = await Worker.runReplayHistory({ workflowBundle }, history, workflowId).then(
    () => 'replays',
    (error: Error) => error.message,
  );
  return { answer, replay };
}

test('an update answered while a local activity from the heartbeated task still runs does not replay; held, it does', async () => {
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle,
    activities: {
      async getSkusForOrder() {
        return [];
      },
      async projectOrder() {
        const workflowId = activityInfo().workflowExecution?.workflowId ?? '';
        if (Date.now() < (failingUntil.get(workflowId) ?? 0)) {
          retrying.add(workflowId);
          throw new Error('the projection store is unavailable (test)');
        }
      },
    },
  });
  const [unheld, held] = await worker.runUntil(Promise.all([runShape(false), runShape(true)]));
  expect(unheld.answer).toBe('placed');
  expect(unheld.replay).toMatch(/Nondeterminism error: Timer machine does not handle this event.*UpdateCompleted/);
  expect(held).toEqual({ answer: 'placed', replay: 'replays' });
});
