import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { issueToken } from '../../api/auth';
import { migrate } from '../../infra/migrate';
import { startEmbeddedPostgres } from '../../infra/postgres';
import { createFlashSaleService } from '../../modules/flash-sale';
import { BENCH_JWT_SECRET } from './shared';

/*
 * Flash-sale admission benchmark (issue 5): `npm run bench:flash-sale [-- N C CAP]`.
 *
 * Fires N attempts at concurrency C (autocannon, loopback) at three servers, one after the other, in
 * one run on the same machine, each in its own process (bench/flash-sale/server.ts):
 *   bare   an express endpoint that answers at once (the ceiling),
 *   naive  `UPDATE ... SET stock = stock - 1 WHERE stock > 0` per attempt,
 *   flash  the engine's API: POST /flash-sales/:id/orders (atomic admission, in-process sold-out mark;
 *          the order workflow start is deferred to the sweeper, so admission alone is measured).
 * Phases per server: warm-up (JIT, connections), "rush" (N attempts against CAP fresh units: the sale
 * itself) and "sold out" (N more attempts after the sell-out). Buyers: 5,000 customers (bearer
 * tokens, limit 2 units each), one per request in turn.
 * PostgreSQL: DATABASE_URL if set, else an embedded PostgreSQL in a temporary folder (migrated).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (
  options: Record<string, unknown>,
  done: (error: Error | null, result: AutocannonResult) => void,
) => { on(event: 'response', listener: () => void): void };

/** Runs autocannon, noting when the last response arrived (its own duration is rounded up to whole seconds). */
function runAutocannon(onResponse: (clock: { now(): number }) => void, options: Record<string, unknown>): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    instance.on('response', () => onResponse(performance));
  });
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  duration: number;
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
}

const N = Number(process.argv[2] ?? 20_000);
const C = Number(process.argv[3] ?? 100);
const CAP = Number(process.argv[4] ?? 100);
const BUYERS = 5_000;
const LIMIT = 2;

interface PhaseResult {
  mode: string;
  phase: string;
  total: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  admitted: number;
  refused: number;
  other: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function startServer(mode: string, databaseUrl: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'server.ts'), mode, databaseUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /listening (\d+)/.exec(buffer);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** Fires `amount` attempts; `seconds` is measured here (autocannon's own duration is in whole seconds). */
async function fire(url: string, amount: number, tokens: string[]): Promise<AutocannonResult & { seconds: number }> {
  let next = 0;
  const startedAt = performance.now();
  let lastResponseAt = startedAt;
  const result = await runAutocannon((performance: { now(): number }) => (lastResponseAt = performance.now()), {
    url,
    connections: C,
    amount,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ quantity: 1 }),
    requests: [
      {
        setupRequest: (request: { headers: Record<string, string> }) => {
          request.headers = { ...request.headers, authorization: tokens[next++ % tokens.length] };
          return request;
        },
      },
    ],
  });
  return { ...result, seconds: (lastResponseAt - startedAt) / 1000 };
}

function summarise(mode: string, phase: string, result: AutocannonResult & { seconds: number }): PhaseResult {
  const count = (code: string) => result.statusCodeStats[code]?.count ?? 0;
  const admitted = count('201') + count('202');
  const refused = count('409');
  const total = Object.values(result.statusCodeStats).reduce((sum, stat) => sum + stat.count, 0);
  return {
    mode,
    phase,
    total,
    seconds: Math.round(result.seconds * 100) / 100,
    rps: Math.round(total / result.seconds),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    admitted,
    refused,
    other: total - admitted - refused + result.errors + result.timeouts,
  };
}

async function main(): Promise<void> {
  let databaseUrl = process.env.DATABASE_URL;
  let stopPostgres: (() => Promise<void>) | undefined;
  let scratch: string | undefined;
  if (!databaseUrl) {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'flash-bench-'));
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'pg'), port: await freePort(), databaseName: 'flash_bench', persistent: false });
    databaseUrl = postgres.databaseUrl;
    stopPostgres = () => postgres.stop();
  }
  await migrate(databaseUrl);
  const pool = new Pool({ connectionString: databaseUrl, max: 4 });
  const run = Date.now().toString(36);
  const flashSale = createFlashSaleService({ pool });
  const campaign = (name: string) => ({
    campaignId: `bench_${name}_${run}`,
    skuId: 'sku_bench',
    flashPriceFen: 9_900,
    cap: CAP,
    perUserLimit: LIMIT,
    limitUnit: 'UNITS' as const,
    startsAt: new Date(Date.now() - 60_000),
    endsAt: new Date(Date.now() + 3_600_000),
  });
  await flashSale.openCampaign(campaign('warm'));
  await flashSale.openCampaign(campaign('sale'));
  await pool.query('CREATE SCHEMA IF NOT EXISTS bench_naive');
  await pool.query('CREATE TABLE IF NOT EXISTS bench_naive.stock (campaign_id text PRIMARY KEY, stock integer NOT NULL CHECK (stock >= 0))');
  await pool.query('INSERT INTO bench_naive.stock VALUES ($1, $3), ($2, $3)', [`bench_warm_${run}`, `bench_sale_${run}`, CAP]);

  const tokens = Array.from({ length: BUYERS }, (_, index) =>
    `Bearer ${issueToken(BENCH_JWT_SECRET, { role: 'customer', subject: `bench_buyer_${index}` })}`,
  );
  const cpu = os.cpus();
  console.log(`flash-sale admission benchmark: N=${N} attempts, C=${C} connections, ${CAP} units, ${BUYERS} buyers (limit ${LIMIT})`);
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL'}`);

  const results: PhaseResult[] = [];
  for (const mode of ['bare', 'naive', 'flash']) {
    const server = await startServer(mode, databaseUrl);
    try {
      await fire(`${server.url}/flash-sales/bench_warm_${run}/orders`, Math.min(N, 5_000), tokens);
      results.push(summarise(mode, 'rush', await fire(`${server.url}/flash-sales/bench_sale_${run}/orders`, N, tokens)));
      results.push(summarise(mode, 'sold out', await fire(`${server.url}/flash-sales/bench_sale_${run}/orders`, N, tokens)));
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((resolve) => server.child.once('exit', resolve));
    }
  }

  // Oversell, from PostgreSQL: units given out against the cap.
  const flashState = (await flashSale.getCampaignState(`bench_sale_${run}`))!;
  const flashAdmissions = Number(
    (await pool.query('SELECT coalesce(sum(quantity), 0) AS units FROM flash_sale.admissions WHERE campaign_id = $1', [`bench_sale_${run}`])).rows[0].units,
  );
  const overLimit = Number(
    (await pool.query('SELECT count(*) AS n FROM flash_sale.buyers WHERE campaign_id = $1 AND units > $2', [`bench_sale_${run}`, LIMIT])).rows[0].n,
  );
  const naiveLeft = (await pool.query('SELECT stock FROM bench_naive.stock WHERE campaign_id = $1', [`bench_sale_${run}`])).rows[0].stock as number;
  const admittedBy = (mode: string) => results.filter((result) => result.mode === mode).reduce((sum, result) => sum + result.admitted, 0);

  console.log('');
  console.log('| server | phase | attempts | seconds | req/s | p50 ms | p90 ms | p99 ms | max ms | admitted | refused (409) | errors/other |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.mode} | ${r.phase} | ${r.total} | ${r.seconds} | ${r.rps} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.admitted} | ${r.refused} | ${r.other} |`);
  }
  const find = (mode: string, phase: string) => results.find((result) => result.mode === mode && result.phase === phase)!;
  const flashOversell = Math.max(0, flashAdmissions - CAP) + Math.max(0, admittedBy('flash') - flashAdmissions);
  const naiveOversell = Math.max(0, admittedBy('naive') - CAP) + (naiveLeft < 0 ? -naiveLeft : 0);
  console.log('');
  console.log(`flash: admitted ${admittedBy('flash')} (PostgreSQL: ${flashAdmissions} units in admissions, taken ${flashState.taken}/${flashState.cap}), buyers over the limit: ${overLimit}, oversell: ${flashOversell}`);
  console.log(`naive: admitted ${admittedBy('naive')} (stock left ${naiveLeft}/${CAP}), oversell: ${naiveOversell}`);
  const vsNaive = find('flash', 'rush').rps / find('naive', 'rush').rps;
  const vsBare = find('flash', 'rush').rps / find('bare', 'rush').rps;
  const p99Ratio = find('flash', 'sold out').p99 / Math.max(find('bare', 'sold out').p99, 1);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  console.log(`admission throughput vs naive: ${vsNaive.toFixed(2)}x (target >= 2x) ${verdict(vsNaive >= 2)}`);
  console.log(`admission throughput vs bare:  ${vsBare.toFixed(2)}x (target >= 0.8x) ${verdict(vsBare >= 0.8)}`);
  console.log(`sold-out p99 vs bare p99:      ${p99Ratio.toFixed(2)}x (target <= 2x) ${verdict(p99Ratio <= 2)}`);
  console.log(`oversell: flash ${flashOversell}, naive ${naiveOversell} (must be 0) ${verdict(flashOversell === 0 && overLimit === 0)}`);

  await pool.end();
  await stopPostgres?.();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (!(vsNaive >= 2 && vsBare >= 0.8 && p99Ratio <= 2 && flashOversell === 0 && overLimit === 0)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
