import { exporter } from './memory-tracing-preload';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { Pool } from 'pg';
import { createApp } from '../../api/app';
import { connectClient, connectWorkerConnection } from '../../infra/temporal-connection';
import { createSandboxProvider } from '../../modules/finance/sandbox';
import { createEngineWorker } from '../../workers/worker';
import { TEST_WEBHOOK_SECRET, testApiSettings } from '../support/api';

/**
 * A traced engine in a process of its own, for test/observability/tracing.test.ts: tracing must start
 * before http, express and pg are loaded (the first import above; jest's module system bypasses the
 * hooks instrumentation relies on, so this cannot run inside jest). Worker and API in one process.
 *
 * stdout is the protocol: one JSON line `{ apiUrl }` once ready; then each `spans` line on stdin is
 * answered with the finished spans as one JSON line; `stop` shuts down. Logs go to stderr.
 */
async function main(): Promise<void> {
  const taskQueue = process.env.TASK_QUEUE!;
  const address = process.env.TEMPORAL_ADDRESS!;
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  const temporal = await connectClient({ address, namespace: 'default' });
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const sandbox = createSandboxProvider({ pool, webhook: { url: `${apiUrl}/payments/webhook`, secret: TEST_WEBHOOK_SECRET }, pollIntervalMs: 250 });

  const connection = await connectWorkerConnection({ address, namespace: 'default' });
  // Bundled from source here: the workflow bundle must contain the tracing interceptors.
  const worker = await createEngineWorker({ connection, namespace: 'default', taskQueue, pool, payments: sandbox });
  const running = worker.run();
  server.on('request', createApp({ pool, temporal, sandbox, settings: testApiSettings({ taskQueue } as Parameters<typeof testApiSettings>[0]) }));
  process.stdout.write(`${JSON.stringify({ apiUrl })}\n`);

  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'spans') {
      const spans = exporter.getFinishedSpans().map((span) => ({
        name: span.name,
        kind: span.kind,
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        parentSpanId: span.parentSpanId,
        attributes: span.attributes,
      }));
      process.stdout.write(`${JSON.stringify(spans)}\n`);
    }
    if (line === 'stop') break;
  }
  worker.shutdown();
  await running;
  await sandbox.close();
  server.closeAllConnections();
  server.close();
  await temporal.connection.close();
  await connection.close();
  await pool.end();
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`traced engine failed: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
