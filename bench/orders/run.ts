import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { createPool } from '../../infra/database';
import { freePort } from '../../infra/temporal';
import { orderWorkflowId } from '../../workflows/order/definitions';
import { ApiClient, CHAOS_API_KEYS_ENV, CHAOS_JWT_SECRET, CHAOS_WEBHOOK_SECRET } from '../chaos/client';
import { startChaosStack, supervise, type Supervised } from '../chaos/stack';
import { cpuSnapshot, rssBytes } from './cpu';
import { driveOne, makeBuyers, PRESALE_FINAL_IN_MS, setUpBenchShop, type DriveContext, type Timed, type Variant } from './drive';
import { driveNoop } from './noop-drive';
import { measurePlacement, placementPlanOf, type AnswerParts, type PlacementFigures } from './placement';
import { measureReads } from './reads';
import { REFERENCE_PLAN } from './reference-shape';
import { describeShape, planFor, shapeOf, type Shape } from './shape';
import { closedLoop, median, percentile } from './stats';
import { workerProcesses, type Topology } from './workers';

/**
 * `npm run bench:orders -- N C ROUNDS [--variant standard|presale|group-buy|flash-sale] [--refunds]
 * [--workers K] [--topology single|per-queue]`: our orders end to end through the API, and in
 * alternating rounds a no-op workflow of the same shape (counted from a real order's history in this
 * run); see BENCHMARKS.md. Loopback only; its own servers unless DATABASE_URL / TEMPORAL_ADDRESS.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const AFTER_SALES_MS = 1_000;

function parse(argv: string[]) {
  const positional = argv.filter((arg, i) => !arg.startsWith('--') && !(argv[i - 1] ?? '').match(/^--(variant|workers|topology|reads|placements)$/));
  const flag = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const [n = '300', c = '50', rounds = '5'] = positional;
  const variant = (flag('variant') ?? 'standard') as Variant;
  if (!['standard', 'presale', 'group-buy', 'flash-sale'].includes(variant)) throw new Error(`--variant ${variant}: standard, presale, group-buy or flash-sale`);
  const topology = (flag('topology') ?? 'single') as Topology;
  return { n: Number(n), c: Number(c), rounds: Number(rounds), variant, refunds: argv.includes('--refunds'), workers: Number(flag('workers') ?? '1'), topology, readSeconds: Number(flag('reads') ?? '5'), placements: Number(flag('placements') ?? '40') };
}

type System = 'engine' | 'no-op' | 'reference';
interface Round { round: number; system: System; units: Timed[]; seconds: number; cpu: Record<string, number> }

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const runId = Date.now().toString(36);
  const t0 = Date.now();
  const log = (line: string) => console.log(`[bench +${Math.round((Date.now() - t0) / 1000)}s] ${line}`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'order-engine-bench-'));
  const logDir = path.join(os.tmpdir(), `order-engine-bench-logs-${runId}`);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => { for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined); rmSync(scratch, { recursive: true, force: true }); };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
  try {
    log(`N=${options.n} C=${options.c} rounds=${options.rounds} variant=${options.variant}${options.refunds ? ' +refunds' : ''} workers=${options.workers} (${options.topology}); load ${os.loadavg()[0].toFixed(2)}`);
    const stack = await startChaosStack(process.env, scratch, runId, log);
    cleanups.push(() => stack.stop());
    const taskQueue = `bench-${runId}`;
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const common: NodeJS.ProcessEnv = {
      // JSON logs, as in production (NODE_ENV stays development: the sandbox provider is what pays here).
      PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'warn', LOG_FORMAT: 'json',
      DATABASE_URL: stack.databaseUrl, TEMPORAL_ADDRESS: stack.temporalAddress, TASK_QUEUE: taskQueue, DB_POOL_MAX: '20',
      JWT_SECRET: CHAOS_JWT_SECRET, API_KEYS: CHAOS_API_KEYS_ENV, PAYMENT_WEBHOOK_SECRET: CHAOS_WEBHOOK_SECRET,
      RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PLACEMENTS: '100000000', UNPAID_ORDERS_CAP: '1000',
      PAYMENT_TIMEOUT: '30m', FLASH_SALE_PAYMENT_TIMEOUT: '30m', GROUP_BUY_PAYMENT_TIMEOUT: '30m',
      DELIVERY_AUTO_CONFIRM: '30m', AFTER_SALES_WINDOW: `${AFTER_SALES_MS}ms`, REFUND_DECISION_TIMEOUT: '30m',
      WORKER_METRICS_PORT: '0', WORKER_HEALTH_PORT: '0',
      // The SDK's workflow stack traces, off as the engine's default; WORKFLOW_STACK_TRACES=on measures them (workers and no-op alike).
      WORKFLOW_STACK_TRACES: process.env.WORKFLOW_STACK_TRACES === 'on' ? 'on' : 'off',
      // Threads running workflow code per worker process (engine and no-op alike); the engine's default unless set.
      ...(process.env.WORKER_WORKFLOW_THREADS ? { WORKER_WORKFLOW_THREADS: process.env.WORKER_WORKFLOW_THREADS } : {}),
    };
    const api = supervise('api', path.join(ROOT, 'api', 'main.ts'), { ...common, LOG_LEVEL: 'info', API_HOST: '127.0.0.1', API_PORT: String(apiPort), PUBLIC_BASE_URL: apiUrl }, /API listening/, logDir, log);
    const workers = workerProcesses(options.topology, options.workers, { ...common, CHAOS_WORKFLOW_BUNDLE: stack.workflowBundle }, logDir, log);
    const noopQueue = `bench-noop-${runId}`;
    const noopWorker = supervise('noop-worker', path.join(ROOT, 'bench', 'orders', 'noop-worker.ts'), { ...common, NOOP_TASK_QUEUE: noopQueue }, /noop worker polling/, logDir, log);
    const processes: Supervised[] = [api, ...workers, noopWorker];
    cleanups.push(...processes.map((p) => () => p.stop()));
    await Promise.all(processes.map((p) => p.ready()));
    log(`API ${apiUrl}, ${workers.length} engine worker process(es), no-op worker; logs in ${logDir}`);

    const pool = createPool({ connectionString: stack.databaseUrl, max: Math.max(10, options.c + 5) });
    cleanups.push(() => pool.end());
    const connection = await Connection.connect({ address: stack.temporalAddress });
    cleanups.push(() => connection.close());
    const temporal = new TemporalClient({ connection });
    const client = new ApiClient(apiUrl);
    const units = options.variant === 'group-buy' ? Math.ceil(options.n / 2) : options.n;
    await setUpBenchShop(pool, client, (options.n + 10) * (options.rounds + 2) * 2);
    const ctx: DriveContext = { api: client, pool, temporal, variant: options.variant, refunds: options.refunds, runId };
    const buyersFor = async (tag: string, count: number) => {
      const ids = Array.from({ length: count }, (_, i) => `mem_bench_${runId}_${tag}_${i}`);
      await makeBuyers(pool, [...ids, ...(options.variant === 'group-buy' ? ids.map((id) => `${id}_p`) : [])]);
      return ids;
    };

    // Warm-up (not measured): a few orders; the last one's history is the shape the no-op copies.
    const warm = await buyersFor('warm', 3);
    let last: Timed | undefined;
    for (let i = 0; i < warm.length; i += 1) last = await driveOne(ctx, -1 - i, warm[i]);
    const orderShape = await shapeOf(temporal, last!.workflowIds[0]);
    log(`one order: ${describeShape(orderShape)}`);
    const waitMs = AFTER_SALES_MS + (options.variant === 'presale' ? PRESALE_FINAL_IN_MS : 0);
    let plan = planFor(orderShape, waitMs);
    const trial = await driveNoop(temporal, noopQueue, plan, `noop-${runId}-trial-0`);
    const trialShape = await shapeOf(temporal, trial.workflowIds[0]);
    plan = planFor(orderShape, waitMs, Math.max(0, orderShape.workflowTasks - trialShape.workflowTasks));
    const noopShape = await shapeOf(temporal, (await driveNoop(temporal, noopQueue, plan, `noop-${runId}-trial-1`)).workflowIds[0]);
    log(`no-op:     ${describeShape(noopShape)}`);

    const groups = {
      server: () => [stack.temporalPid],
      engine: () => [api.pid(), ...workers.map((w) => w.pid())],
      api: () => [api.pid()],
      noop: () => [noopWorker.pid()],
    };
    const rounds: Round[] = [];
    for (let r = 1; r <= options.rounds; r += 1) {
      // The order rotates round by round, so background load falls on every system alike.
      const systems: System[] = ['engine', 'no-op', 'reference'];
      const order = systems.map((_, i) => systems[(i + r - 1) % systems.length]);
      for (const system of order) {
        const buyers = system === 'engine' ? await buyersFor(`r${r}`, units) : [];
        const cpu = cpuSnapshot(groups, { postgres: () => stack.postgresPid() });
        const started = Date.now();
        const done = await closedLoop(system === 'engine' ? units : options.n, options.c, (i) =>
          system === 'engine'
            ? driveOne(ctx, r * 100_000 + i, buyers[i])
            : driveNoop(temporal, noopQueue, system === 'no-op' ? plan : REFERENCE_PLAN, `${system}-${runId}-${r}-${i}`),
        );
        const round = { round: r, system, units: done, seconds: (Date.now() - started) / 1000, cpu: cpu.since() };
        rounds.push(round);
        log(line(round));
      }
    }
    const placementPlan = placementPlanOf(orderShape);
    log(`placement alone, C=1 and C=${options.c}, beside a no-op update-with-start of its shape (${JSON.stringify(placementPlan)})`);
    const placement = options.variant === 'standard' && !options.refunds
      ? await measurePlacement(ctx, { temporal, taskQueue: noopQueue, plan: placementPlan }, buyersFor, [
        { concurrency: 1, count: options.placements },
        { concurrency: options.c, count: Math.max(options.placements, 2 * options.c) },
      ])
      : [];
    const reads = await measureReads(ctx, await buyersFor('reads', 50), options.c, options.readSeconds);
    log(`plan of the no-op: ${JSON.stringify(plan)}`);
    report(options, rounds, orderShape, noopShape, reads, placement, workers.map((w) => rssBytes(w.pid())));
  } finally {
    await cleanUp();
  }
}

function completions(round: Round): number { return round.units.reduce((sum, unit) => sum + unit.lifeMs.length, 0); }
function perOrder(round: Round, group: string): number { return round.cpu[group] / completions(round); }

/** PostgreSQL's CPU per order, when the bench started it (it shares the cores; not counted as ours). */
function postgresCpu(round: Round): string {
  return round.cpu.postgres ? `, PostgreSQL ${perOrder(round, 'postgres').toFixed(0)} ms` : '';
}

function line(round: Round): string {
  const lives = round.units.flatMap((u) => u.lifeMs);
  const placements = round.units.map((u) => u.placementMs);
  const app = round.system === 'engine' ? 'engine' : 'noop';
  return `round ${round.round} ${round.system.padEnd(6)} ${(completions(round) / round.seconds).toFixed(2)} completions/s; placement p50 ${percentile(placements, 50)} ms p99 ${percentile(placements, 99)} ms; ` +
    `life p50 ${percentile(lives, 50)} ms p99 ${percentile(lives, 99)} ms; CPU/order server ${perOrder(round, 'server').toFixed(0)} ms, app ${perOrder(round, app).toFixed(0)} ms` +
    (round.system === 'engine' ? ` (API ${perOrder(round, 'api').toFixed(0)} ms)` : '') + postgresCpu(round);
}

function report(options: ReturnType<typeof parse>, rounds: Round[], orderShape: Shape, noopShape: Shape, reads: Awaited<ReturnType<typeof measureReads>>, placement: PlacementFigures[], workerRss: number[]): void {
  const of = (system: System) => rounds.filter((r) => r.system === system);
  const med = (system: System, f: (r: Round) => number) => median(of(system).map(f));
  const app = (system: System) => (system === 'engine' ? 'engine' : 'noop');
  const names: Record<System, string> = {
    engine: `our ${options.variant}${options.refunds ? ' + refund' : ''} order via API`,
    'no-op': 'no-op of the same shape',
    reference: "no-op of the issue's 16-activity shape",
  };
  console.log('\n| system | completions/s | placement p50 / p99 ms | life p50 / p99 ms | CPU per order server / app ms |');
  console.log('|---|---|---|---|---|');
  for (const system of ['engine', 'no-op', 'reference'] as const) {
    const p = (q: number) => med(system, (r) => percentile(r.units.map((u) => u.placementMs), q));
    const l = (q: number) => med(system, (r) => percentile(r.units.flatMap((u) => u.lifeMs), q));
    console.log(`| ${names[system]} | ${med(system, (r) => completions(r) / r.seconds).toFixed(2)} | ${p(50)} / ${p(99)} | ${l(50)} / ${l(99)} | ${med(system, (r) => perOrder(r, 'server')).toFixed(0)} / ${med(system, (r) => perOrder(r, app(system))).toFixed(0)} |`);
  }
  console.log(`\nshape of one order: ${describeShape(orderShape)}`);
  console.log(`shape of the no-op: ${describeShape(noopShape)}`);
  console.log(`reads GET /orders/{id} (orders awaiting payment, C=${options.c}): ${reads.perSecond.toFixed(0)} req/s, p50 ${reads.p50} ms, p99 ${reads.p99} ms`);
  console.log(`engine worker RSS: ${workerRss.map((b) => `${(b / 2 ** 20).toFixed(0)} MB`).join(', ')}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const p of placement) {
    console.log(`placement alone at C=${p.concurrency} (${p.count} orders): engine p50 ${p.engine.p50} ms, p99 ${p.engine.p99} ms; no-op update-with-start of its shape p50 ${p.noop.p50} ms, p99 ${p.noop.p99} ms`);
    const parts = (a: AnswerParts) => `to the worker ${a.toWorker} ms, its workflow task ${a.task} ms, the rest ${a.rest} ms`;
    if (p.parts) console.log(`  p50 parts (from the histories): engine ${parts(p.parts.engine)}; no-op ${parts(p.parts.noop)}`);
  }
  const rate = (r: Round) => completions(r) / r.seconds;
  const ratioTo = (system: System) => median(of('engine').map((r, i) => rate(r) / rate(of(system)[i])));
  const appCpu = med('engine', (r) => perOrder(r, 'engine'));
  console.log(`\nend-to-end vs no-op limit: ${ratioTo('no-op').toFixed(2)}x (target >= 0.80x)`);
  console.log(`end-to-end vs the 16-activity no-op: ${ratioTo('reference').toFixed(2)}x (target >= 1.06x)`);
  console.log(`CPU per order of our processes: ${appCpu.toFixed(0)} ms (target <= 60 ms)`);
  if (rounds.some((r) => r.cpu.postgres)) console.log(`CPU per order of PostgreSQL (not counted above; it shares the cores): ${med('engine', (r) => perOrder(r, 'postgres')).toFixed(0)} ms`);
  const [c1, cN] = placement;
  if (c1) console.log(`placement p50 at C=1: ${c1.engine.p50} ms (target <= 50 ms)`);
  if (c1 && cN) console.log(`placement p50 at C=${cN.concurrency}: ${cN.engine.p50} ms (target <= ${5 * Math.max(c1.engine.p50, 50)} ms, 5x C=1)`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
