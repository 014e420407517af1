import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { issueToken } from '../../api/auth';
import { createPool } from '../../infra/database';
import { createMemberService } from '../../modules/member';
import { createAddressService } from '../../modules/logistics';
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
  const pool = createPool({ connectionString: databaseUrl, max: 4 });
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
  const ROUNDS = Number(process.argv[5] ?? 3);
  const saleId = (round: number) => `bench_sale_${round}_${run}`;
  await pool.query('CREATE SCHEMA IF NOT EXISTS bench_naive');
  await pool.query('CREATE TABLE IF NOT EXISTS bench_naive.stock (campaign_id text PRIMARY KEY, stock integer NOT NULL CHECK (stock >= 0))');
  for (const id of ['warm', ...Array.from({ length: ROUNDS }, (_, round) => `sale_${round}`)]) {
    await flashSale.openCampaign(campaign(id));
    await pool.query('INSERT INTO bench_naive.stock VALUES ($1, $2)', [`bench_${id}_${run}`, CAP]);
  }

  // Buyers are members: placement refuses a token whose subject has no member record.
  const members = createMemberService({ pool });
  // ...with a default shipping address (a placement without one names none).
  const addresses = createAddressService({ pool });
  for (let index = 0; index < BUYERS; index += 1) {
    await members.createMember({ id: `bench_buyer_${index}`, name: `Bench buyer ${index}` });
    if (!(await addresses.defaultFor(`bench_buyer_${index}`))) {
      await addresses.create(`bench_buyer_${index}`, { recipient: 'Bench', mobile: '13800138000', provinceCode: '310000', cityCode: '310100', districtCode: '310104', street: 'Bench road 1' });
    }
  }
  const tokens = Array.from({ length: BUYERS }, (_, index) =>
    `Bearer ${issueToken({ jwtSecret: BENCH_JWT_SECRET, apiKeys: new Map() }, { role: 'customer', subject: `bench_buyer_${index}` })}`,
  );
  const cpu = os.cpus();
  console.log(`flash-sale admission benchmark: N=${N} attempts, C=${C} connections, ${CAP} units, ${BUYERS} buyers (limit ${LIMIT}), ${ROUNDS} rounds`);
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL'}, load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}`);

  // All three servers up (idle ones cost nothing), warmed up, then measured in rounds, taking turns,
  // so background load on the machine falls on all of them alike; the medians are compared.
  const modes = ['bare', 'naive', 'flash'];
  const servers = new Map<string, { url: string; child: ChildProcess }>();
  const results: (PhaseResult & { round: number })[] = [];
  try {
    for (const mode of modes) servers.set(mode, await startServer(mode, databaseUrl));
    for (const mode of modes) await fire(`${servers.get(mode)!.url}/flash-sales/bench_warm_${run}/orders`, Math.min(N, 5_000), tokens);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const mode of [...modes.slice(round % 3), ...modes.slice(0, round % 3)]) {
        const url = `${servers.get(mode)!.url}/flash-sales/${saleId(round)}/orders`;
        results.push({ ...summarise(mode, 'rush', await fire(url, N, tokens)), round });
        results.push({ ...summarise(mode, 'sold out', await fire(url, N, tokens)), round });
      }
    }
  } finally {
    for (const server of servers.values()) {
      server.child.kill('SIGTERM');
      await new Promise((resolve) => server.child.once('exit', resolve));
    }
  }

  // Oversell, from PostgreSQL: units given out against the cap, per sale.
  let flashOversell = 0;
  let naiveOversell = 0;
  let overLimit = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const id = saleId(round);
    const admitted = (mode: string) => results.filter((result) => result.mode === mode && result.round === round).reduce((sum, result) => sum + result.admitted, 0);
    const units = Number((await pool.query('SELECT coalesce(sum(quantity), 0) AS units FROM flash_sale.admissions WHERE campaign_id = $1', [id])).rows[0].units);
    const state = (await flashSale.getCampaignState(id))!;
    overLimit += Number((await pool.query('SELECT count(*) AS n FROM flash_sale.buyers WHERE campaign_id = $1 AND units > $2', [id, LIMIT])).rows[0].n);
    flashOversell += Math.max(0, units - CAP) + Math.max(0, state.taken - CAP) + Math.abs(admitted('flash') - units);
    const left = (await pool.query('SELECT stock FROM bench_naive.stock WHERE campaign_id = $1', [id])).rows[0].stock as number;
    naiveOversell += Math.max(0, admitted('naive') - CAP) + Math.max(0, -left);
    console.log(`round ${round + 1}: flash admitted ${admitted('flash')} (PostgreSQL: ${units} units admitted, taken ${state.taken}/${state.cap}); naive admitted ${admitted('naive')} (stock left ${left}/${CAP})`);
  }

  console.log('');
  console.log('| round | server | phase | attempts | seconds | req/s | p50 ms | p90 ms | p99 ms | max ms | admitted | refused (409) | errors/other |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.round + 1} | ${r.mode} | ${r.phase} | ${r.total} | ${r.seconds} | ${r.rps} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.admitted} | ${r.refused} | ${r.other} |`);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const med = (mode: string, phase: string, key: 'rps' | 'p99' | 'p50') =>
    median(results.filter((result) => result.mode === mode && result.phase === phase).map((result) => result[key]));
  console.log('');
  console.log(`medians over ${ROUNDS} rounds:`);
  console.log('| server | rush req/s | rush p99 ms | sold-out req/s | sold-out p50 ms | sold-out p99 ms |');
  console.log('|---|---|---|---|---|---|');
  for (const mode of modes) {
    console.log(`| ${mode} | ${med(mode, 'rush', 'rps')} | ${med(mode, 'rush', 'p99')} | ${med(mode, 'sold out', 'rps')} | ${med(mode, 'sold out', 'p50')} | ${med(mode, 'sold out', 'p99')} |`);
  }
  const vsNaive = med('flash', 'rush', 'rps') / med('naive', 'rush', 'rps');
  const vsBare = med('flash', 'rush', 'rps') / med('bare', 'rush', 'rps');
  const p99Ratio = med('flash', 'sold out', 'p99') / Math.max(med('bare', 'sold out', 'p99'), 1);
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  console.log('');
  console.log(`admission throughput vs naive: ${vsNaive.toFixed(2)}x (target >= 2x) ${verdict(vsNaive >= 2)}`);
  console.log(`admission throughput vs bare:  ${vsBare.toFixed(2)}x (target >= 0.8x) ${verdict(vsBare >= 0.8)}`);
  console.log(`sold-out p99 vs bare p99:      ${p99Ratio.toFixed(2)}x (target <= 2x) ${verdict(p99Ratio <= 2)}`);
  console.log(`oversell: flash ${flashOversell}, naive ${naiveOversell}; buyers over the limit: ${overLimit} (must be 0) ${verdict(flashOversell === 0 && overLimit === 0)}`);

  await pool.end();
  await stopPostgres?.();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (!(vsNaive >= 2 && vsBare >= 0.8 && p99Ratio <= 2 && flashOversell === 0 && overLimit === 0)) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
