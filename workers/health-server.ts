import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import { registry } from '../infra/metrics';

/**
 * A worker's own small HTTP endpoint for container checks and Prometheus: `/healthz` answers 200 while
 * the worker runs (polls its task queue), 503 while it starts, drains or has failed; `/metrics` serves
 * the business counters its activities keep (the SDK's metrics are on WORKER_METRICS_PORT).
 * Keep it on a private interface: it has no authentication.
 */
export interface HealthServer {
  url: string;
  close(): Promise<void>;
}

export async function startWorkerHealthServer(worker: Pick<Worker, 'getState'>, host: string, port: number): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET') return send(res, 405, 'application/json', JSON.stringify({ error: 'GET only' }));
    if (path === '/healthz' || path === '/readyz') {
      const state = worker.getState();
      return send(res, state === 'RUNNING' ? 200 : 503, 'application/json', JSON.stringify({ status: state === 'RUNNING' ? 'ok' : 'unavailable', worker: state }));
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (body) => send(res, 200, registry.contentType, body),
        (error: Error) => send(res, 500, 'text/plain', error.message),
      );
      return;
    }
    send(res, 404, 'application/json', JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type }).end(body);
}
