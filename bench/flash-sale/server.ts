import { Client, Connection } from '@temporalio/client';
import express from 'express';
import type { Pool } from 'pg';
import { createApp } from '../../api/app';
import { cachedAuthenticate } from '../../api/flash-sales';
import { errorHandler } from '../../api/problem';
import { createPool } from '../../infra/database';
import { BENCH_JWT_SECRET } from './shared';
import { createLogger } from '../../infra/logger';

/**
 * One server of the flash-sale benchmark, in its own process (so the load generator and the server
 * do not share an event loop): `bare`, `naive` or `flash`. Prints `listening <port>` when ready.
 *
 * - bare:  express + JSON body parser, answers 409 at once: the ceiling of any express endpoint here.
 * - naive: the same authentication as the flash-sale API (cachedAuthenticate), then `UPDATE ... SET stock = stock - 1 WHERE stock > 0`
 *          per attempt (every attempt is a query, every admission a lock on the hot row).
 * - flash: the engine's real API (createApp) and its flash-sale endpoint, with the workflow start
 *          deferred to the sweeper (startWorkflows: false): admission is what is measured.
 */
async function main(): Promise<void> {
  const [mode, databaseUrl] = process.argv.slice(2);
  let app: express.Express;
  let pool: Pool | undefined;
  if (mode === 'bare') {
    app = express();
    app.use(express.json());
    app.post('/flash-sales/:campaignId/orders', (_req, res) => {
      res.status(409).type('application/problem+json').json({ type: 'about:blank', title: 'Sold out', status: 409, reason: 'SOLD_OUT' });
    });
  } else if (mode === 'naive') {
    pool = createPool({ connectionString: databaseUrl, max: 10 });
    const db = pool;
    app = express();
    app.use(express.json());
    app.use('/flash-sales', cachedAuthenticate({ jwtSecret: BENCH_JWT_SECRET, apiKeys: new Map() }));
    app.post('/flash-sales/:campaignId/orders', async (req, res) => {
      const taken = await db.query('UPDATE bench_naive.stock SET stock = stock - 1 WHERE campaign_id = $1 AND stock > 0', [req.params.campaignId]);
      if (taken.rowCount === 1) res.status(201).json({ admitted: true });
      else res.status(409).type('application/problem+json').json({ type: 'about:blank', title: 'Sold out', status: 409, reason: 'SOLD_OUT' });
    });
    app.use(errorHandler());
  } else if (mode === 'flash') {
    pool = createPool({ connectionString: databaseUrl, max: 10 });
    // No Temporal in the admission benchmark: a lazy connection that is never used.
    const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    app = createApp({
      pool,
      temporal,
      // A line per request would measure the terminal: warnings only.
      logger: createLogger({ level: 'warn', format: 'json' }),
      settings: {
        taskQueue: 'bench',
        auth: { jwtSecret: BENCH_JWT_SECRET, apiKeys: new Map() },
        webhookSecret: 'bench-webhook-secret-0123456789',
        orderTimeouts: { paymentMs: 300_000, autoConfirmDeliveryMs: 1, afterSalesWindowMs: 1 },
        flashSale: { paymentMs: 300_000, sweepIntervalMs: 0, startWorkflows: false },
      },
    });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
  });
  server.keepAliveTimeout = 60_000;
  let served = 0;
  server.on('request', () => {
    served += 1;
  });
  process.on('SIGTERM', () => {
    const { user, system } = process.cpuUsage();
    process.stderr.write(`${mode} server: ${served} requests, ${((user + system) / Math.max(served, 1)).toFixed(0)} µs CPU per request\n`);
    server.close();
    void pool?.end();
    process.exit(0);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
