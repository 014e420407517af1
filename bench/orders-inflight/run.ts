import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { createPool } from '../../infra/database';
import { freePort } from '../../infra/temporal';
import { ApiClient, CHAOS_API_KEYS_ENV, CHAOS_JWT_SECRET, CHAOS_WEBHOOK_SECRET } from '../chaos/client';
import { startChaosStack, supervise } from '../chaos/stack';
import { rssBytes } from '../orders/cpu';
import { BENCH_SKU, makeBuyers, payShipDeliver, setUpBenchShop, type DriveContext } from '../orders/drive';
import { closedLoop, percentile } from '../orders/stats';

/**
 * `npm run bench:orders-inflight -- [N=50000] [C=20] [SAMPLE=1000]`: N standard orders placed through
 * the API and left waiting for payment; then the worker's RSS (workflow cache bounded by
 * WORKER_MAX_CACHED_WORKFLOWS, `--cache`, default 500) and the Temporal server's database size
 * (SQLite file + WAL); then the worker is SIGKILLed and restarted, and SAMPLE of them are paid, shipped
 * and delivered to completion (each one's workflow is replayed from its history on a fresh worker).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const MB = 2 ** 20;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const cacheAt = argv.indexOf('--cache');
  const cache = cacheAt >= 0 ? argv[cacheAt + 1] : '500';
  const positional = argv.filter((arg, i) => !arg.startsWith('--') && argv[i - 1] !== '--cache');
  const [n, c, sample] = [Number(positional[0] ?? 50_000), Number(positional[1] ?? 20), Number(positional[2] ?? 1_000)];
  const runId = Date.now().toString(36);
  const t0 = Date.now();
  const log = (line: string) => console.log(`[inflight +${Math.round((Date.now() - t0) / 1000)}s] ${line}`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'order-engine-inflight-'));
  const dbFile = path.join(scratch, 'temporal', 'temporal.db');
  const logDir = path.join(os.tmpdir(), `order-engine-inflight-logs-${runId}`);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    log(`N=${n} C=${c} sample=${sample} maxCachedWorkflows=${cache}; load ${os.loadavg()[0].toFixed(2)}`);
    const stack = await startChaosStack(process.env, scratch, runId, log, { temporalDbFile: process.env.TEMPORAL_ADDRESS ? undefined : dbFile });
    cleanups.push(() => stack.stop());
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const common: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'warn', LOG_FORMAT: 'json',
      DATABASE_URL: stack.databaseUrl, TEMPORAL_ADDRESS: stack.temporalAddress, TASK_QUEUE: `inflight-${runId}`, DB_POOL_MAX: '20',
      JWT_SECRET: CHAOS_JWT_SECRET, API_KEYS: CHAOS_API_KEYS_ENV, PAYMENT_WEBHOOK_SECRET: CHAOS_WEBHOOK_SECRET,
      RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PLACEMENTS: '100000000', UNPAID_ORDERS_CAP: '1000000',
      PAYMENT_TIMEOUT: '10d', DELIVERY_AUTO_CONFIRM: '10d', AFTER_SALES_WINDOW: '1s',
      WORKER_METRICS_PORT: '0', WORKER_HEALTH_PORT: '0', WORKER_MAX_CACHED_WORKFLOWS: cache,
    };
    const api = supervise('api', path.join(ROOT, 'api', 'main.ts'), { ...common, LOG_LEVEL: 'info', API_HOST: '127.0.0.1', API_PORT: String(apiPort), PUBLIC_BASE_URL: apiUrl }, /API listening/, logDir, log);
    const worker = supervise('worker', path.join(ROOT, 'bench', 'chaos', 'worker-process.ts'), { ...common, CHAOS_WORKFLOW_BUNDLE: stack.workflowBundle }, /worker polling/, logDir, log);
    cleanups.push(() => api.stop(), () => worker.stop());
    await Promise.all([api.ready(), worker.ready()]);
    const pool = createPool({ connectionString: stack.databaseUrl, max: c + 5 });
    cleanups.push(() => pool.end());
    const connection = await Connection.connect({ address: stack.temporalAddress });
    cleanups.push(() => connection.close());
    const client = new ApiClient(apiUrl);
    await setUpBenchShop(pool, client, 10);
    const buyers = Array.from({ length: Math.min(n, 200) }, (_, i) => `mem_inflight_${runId}_${i}`);
    await makeBuyers(pool, buyers);

    const placedAt = Date.now();
    let done = 0;
    const placed = await closedLoop(n, c, async (i) => {
      const buyer = buyers[i % buyers.length];
      const t = Date.now();
      const answer = await client.call('POST', '/orders', { customer: buyer }, { lines: [{ skuId: BENCH_SKU.id, quantity: 1 }] }, { 'Idempotency-Key': `inflight-${runId}-${i}` });
      if (answer.status !== 201) throw new Error(`place ${i}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
      if (++done % 1000 === 0) log(`${done}/${n} placed; worker RSS ${(rssBytes(worker.pid()) / MB).toFixed(0)} MB`);
      return { orderId: answer.body.orderId as string, intentId: answer.body.payment?.intentId as string, buyer, ms: Date.now() - t };
    });
    const placingSeconds = (Date.now() - placedAt) / 1000;
    const waiting = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM orders.orders WHERE status = 'PENDING_PAYMENT'`);
    const rssBefore = rssBytes(worker.pid());
    const dbBytes = ['', '-wal', '-shm'].map((suffix) => `${dbFile}${suffix}`).filter(existsSync).reduce((sum, file) => sum + statSync(file).size, 0);
    log(`${n} placed in ${placingSeconds.toFixed(0)} s (${(n / placingSeconds).toFixed(1)}/s, placement p50 ${percentile(placed.map((p) => p.ms), 50)} ms); ${waiting.rows[0].n} waiting for payment`);
    log(`worker RSS ${(rssBefore / MB).toFixed(0)} MB; Temporal DB ${(dbBytes / MB).toFixed(1)} MB (${((dbBytes / n) / 1024).toFixed(1)} KB per order)`);

    log('SIGKILL the worker; it restarts with an empty cache');
    worker.kill();
    await worker.ready();
    const temporal = new TemporalClient({ connection });
    const ctx: DriveContext = { api: client, pool, temporal, variant: 'standard', refunds: false, runId };
    const chosen = Array.from({ length: Math.min(sample, n) }, (_, i) => placed[Math.floor((i * n) / Math.min(sample, n))]);
    const resumedAt = Date.now();
    const lives = await closedLoop(chosen.length, c, (i) => payShipDeliver(ctx, chosen[i].orderId, chosen[i].intentId, Date.now()));
    const completed = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM orders.orders WHERE status = 'COMPLETED' AND order_id = ANY($1)`, [chosen.map((o) => o.orderId)]);
    console.log(`\n| orders in flight | placed/s | worker RSS (cache ${cache}) | Temporal DB | after restart: paid to completion | life p50 / p99 after restart | worker RSS after |`);
    console.log('|---|---|---|---|---|---|---|');
    console.log(`| ${waiting.rows[0].n} | ${(n / placingSeconds).toFixed(1)} | ${(rssBefore / MB).toFixed(0)} MB | ${(dbBytes / MB).toFixed(1)} MB | ${completed.rows[0].n}/${chosen.length} in ${((Date.now() - resumedAt) / 1000).toFixed(0)} s | ${percentile(lives, 50)} / ${percentile(lives, 99)} ms | ${(rssBytes(worker.pid()) / MB).toFixed(0)} MB |`);
    console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    if (Number(completed.rows[0].n) !== chosen.length) process.exitCode = 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
