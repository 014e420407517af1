import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import request from 'supertest';
import type { OrderView } from '../../workflows/order/definitions';
import { customerAuth } from '../support/api';
import { eventually } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * One trace from POST /orders through the order workflow and its activities down to PostgreSQL: the
 * OTel HTTP/express/pg instrumentation plus the Temporal interceptors, in an engine process of its own
 * (test/observability/traced-engine.ts) exporting to memory.
 */
interface SpanData {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

let env: TestEnv;
let engine: ChildProcess;
let stdout: Interface;
let apiUrl: string;

function nextLine(): Promise<string> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`traced engine exited with ${code}`));
    engine.once('exit', onExit);
    stdout.once('line', (line) => {
      engine.off('exit', onExit);
      resolve(line);
    });
  });
}

beforeAll(async () => {
  env = await createTestEnv();
  engine = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'traced-engine.ts')], {
    env: { ...process.env, DATABASE_URL: env.databaseUrl, TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS, TASK_QUEUE: env.taskQueue },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  stdout = createInterface({ input: engine.stdout! });
  apiUrl = (JSON.parse(await nextLine()) as { apiUrl: string }).apiUrl;
}, 180_000);
afterAll(async () => {
  if (engine.exitCode === null) {
    engine.stdin!.write('stop\n');
    await new Promise((resolve) => engine.once('exit', resolve));
  }
  await env.close();
});

async function spans(): Promise<SpanData[]> {
  const answer = nextLine();
  engine.stdin!.write('spans\n');
  return JSON.parse(await answer) as SpanData[];
}

test('POST /orders, the workflow, its activities and their SQL are one linked trace', async () => {
  await addSku(env.pool, 'sku_traced', 10_000, 5);
  await addMember(env.pool, 'mem_traced');
  const placed = await request(apiUrl)
    .post('/orders')
    .set('Authorization', customerAuth('mem_traced'))
    .set('Idempotency-Key', `trace-${env.id}`)
    .send({ lines: [{ skuId: 'sku_traced', quantity: 1 }] });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  expect(order.status).toBe('PENDING_PAYMENT');
  // A workflow's own span ends (and is exported) when the workflow does: the buyer cancels.
  const cancelled = await request(apiUrl).post(`/orders/${order.orderId}/cancel`).set('Authorization', customerAuth('mem_traced')).send({ reason: 'trace test' });
  expect(cancelled.status).toBe(200);

  const all = await eventually(async () => {
    const finished = await spans();
    const server = finished.find((span) => span.kind === 1 && span.attributes['http.method'] === 'POST' && span.attributes['http.target'] === '/orders');
    if (!server) return undefined;
    const trace = finished.filter((span) => span.traceId === server.traceId);
    const names = trace.map((span) => span.name);
    return names.includes('RunWorkflow:standardOrderWorkflow') && names.includes('RunActivity:reserveStock') && trace.some((span) => span.name.startsWith('pg.query'))
      ? { server, trace }
      : undefined;
  }, 60_000, 'the order trace');

  const byId = new Map(all.trace.map((span) => [span.spanId, span]));
  const ancestry = (span: SpanData): string[] => {
    const names: string[] = [];
    for (let current: SpanData | undefined = span; current; current = current.parentSpanId ? byId.get(current.parentSpanId) : undefined) names.push(current.name);
    return names;
  };
  // The reservation's SQL hangs under its activity, the activity under the workflow, the workflow
  // under the API's update-with-start call (start and placement answer in one), and that under the request.
  const reserveSql = all.trace.find(
    (span) => span.name.startsWith('pg.query') && /inventory\./.test(String(span.attributes['db.statement'])) && ancestry(span).includes('RunActivity:reserveStock'),
  );
  expect(reserveSql).toBeDefined();
  const chain = ancestry(reserveSql!);
  expect(chain).toEqual(expect.arrayContaining(['RunActivity:reserveStock', 'StartActivity:reserveStock', 'RunWorkflow:standardOrderWorkflow', 'UpdateWithStartWorkflow:placementResult']));
  expect(chain[chain.length - 1]).toBe(all.server.name);
  expect(chain.indexOf('RunActivity:reserveStock')).toBeLessThan(chain.indexOf('RunWorkflow:standardOrderWorkflow'));
  expect(chain.indexOf('RunWorkflow:standardOrderWorkflow')).toBeLessThan(chain.indexOf('UpdateWithStartWorkflow:placementResult'));
  expect(reserveSql!.attributes['db.system']).toBe('postgresql');
  // Express names the route on the request's span; the compensations of the cancel are in the trace too.
  expect(all.server.attributes['http.route']).toBe('/orders');
  expect(all.trace.map((span) => span.name)).toContain('RunActivity:releaseStock');
}, 120_000);
