import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { createPool } from '../../infra/database';
import { freePort } from '../../infra/temporal';
import { actors } from './actors';
import { ApiClient, CHAOS_API_KEYS_ENV, CHAOS_JWT_SECRET, CHAOS_WEBHOOK_SECRET, sleep } from './client';
import { drive, planScenarios, type DriveResult } from './drive';
import { readFaultLog, seededRandom, startWebhookProxy, startWorkerKiller } from './faults';
import { checkSql, closedBadly, countByStatus, stillRunning, waitsForTheWarehouse, type Violation, type WorkflowProblem } from './invariants';
import { printReport, type RunReport } from './report';
import { setUpShop } from './shop';
import { startChaosStack, supervise } from './stack';

/**
 * `npm run chaos`: a few hundred orders of every type and path while activities fail (10% of attempts,
 * before or after their effect), the worker is SIGKILLed every few seconds, PostgreSQL restarts once
 * and payment webhooks are duplicated and reordered; then SQL and Temporal say whether anything was
 * lost, doubled or stuck. Exits 1 on any broken invariant. Bounded in count and time; loopback only.
 *
 *   npm run chaos -- --orders 240 --spread 240 --kill-every 12-20 --fault-rate 0.1 --seed 42
 *
 * --kill-every counts from the moment the restarted worker polls again (it always gets to work).
 */
const ROOT = path.resolve(__dirname, '..', '..');

interface Options {
  orders: number;
  spreadMs: number;
  killMinMs: number;
  killMaxMs: number;
  faultRate: number;
  seed: string;
  settleMs: number;
  deadlineMs: number;
  postgresRestart: boolean;
  duplicateShare: number;
  report?: string;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i].startsWith('--')) args.set(argv[i].slice(2), argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : 'true');
  }
  const get = (name: string, fallback: string) => args.get(name) ?? env[`CHAOS_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback;
  const number = (name: string, fallback: string, min: number, max: number) => {
    const value = Number(get(name, fallback));
    if (!Number.isFinite(value) || value < min || value > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return value;
  };
  const [killMin, killMax] = get('kill-every', '12-20').split('-').map(Number);
  if (!(killMin > 0) || !(killMax >= killMin)) throw new Error('--kill-every takes seconds as MIN-MAX, e.g. 5-10');
  return {
    orders: number('orders', '240', 1, 2_000),
    spreadMs: number('spread', '300', 0, 1_800) * 1_000,
    killMinMs: killMin * 1_000,
    killMaxMs: killMax * 1_000,
    faultRate: number('fault-rate', '0.1', 0, 0.5),
    seed: get('seed', String(Date.now())),
    settleMs: number('settle', '300', 10, 1_800) * 1_000,
    deadlineMs: number('deadline', '1500', 60, 7_200) * 1_000,
    postgresRestart: get('postgres-restart', 'true') !== 'false',
    duplicateShare: number('duplicate-share', '0.5', 0, 1),
    report: args.get('report') ?? env.CHAOS_REPORT,
  };
}

/** Short durations for the engine (seconds instead of minutes and days), so every path ends within minutes. */
export const CHAOS_TIMINGS = {
  PAYMENT_TIMEOUT: '25s',
  FLASH_SALE_PAYMENT_TIMEOUT: '25s',
  GROUP_BUY_PAYMENT_TIMEOUT: '25s',
  DELIVERY_AUTO_CONFIRM: '15s',
  AFTER_SALES_WINDOW: '40s',
  REFUND_DECISION_TIMEOUT: '120s',
  RETURN_SHIPMENT_WINDOW: '60s',
  FLASH_SALE_SWEEP_INTERVAL: '3s',
};
const PAYMENT_TIMEOUT_MS = 25_000;

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const startedAt = Date.now();
  const loadAtStart = os.loadavg()[0];
  const runId = Date.now().toString(36);
  const log = (line: string) => console.log(`[chaos +${Math.round((Date.now() - startedAt) / 1000)}s] ${line}`);
  const scratchDir = mkdtempSync(path.join(os.tmpdir(), 'order-engine-chaos-'));
  const logDir = path.join(os.tmpdir(), `order-engine-chaos-logs-${runId}`);
  mkdirSync(logDir, { recursive: true });
  const faultLog = path.join(logDir, 'faults.jsonl');
  const random = seededRandom(options.seed);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    rmSync(scratchDir, { recursive: true, force: true });
  };
  const abort = (why: string, code: number) => {
    log(`${why}: stopping the run's processes and servers`);
    void cleanUp().finally(() => process.exit(code));
  };
  const deadline = setTimeout(() => abort(`deadline of ${options.deadlineMs / 1000}s reached`, 3), options.deadlineMs);
  deadline.unref();
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));

  try {
    log(`run ${runId}: ${options.orders} scenarios over ${options.spreadMs / 1000}s, fault rate ${options.faultRate}, kill every ${options.killMinMs / 1000}-${options.killMaxMs / 1000}s, seed ${options.seed}`);
    const stack = await startChaosStack(process.env, scratchDir, runId, log);
    cleanups.push(() => stack.stop());
    const taskQueue = `chaos-${runId}`;
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const proxy = await startWebhookProxy({ targetBaseUrl: () => apiUrl, random, maxHoldMs: 1_500, duplicateShare: options.duplicateShare, maxDuplicateDelayMs: 4_000 });
    cleanups.push(() => proxy.close());

    const common: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TASK_QUEUE: taskQueue,
      DB_POOL_MAX: '10',
      JWT_SECRET: CHAOS_JWT_SECRET,
      API_KEYS: CHAOS_API_KEYS_ENV,
      PAYMENT_WEBHOOK_SECRET: CHAOS_WEBHOOK_SECRET,
      // Every buyer of the run calls from 127.0.0.1: the per-IP abuse limit would throttle the run itself.
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PLACEMENTS: '1000',
      ...CHAOS_TIMINGS,
    };
    // info: the API says it listens at info (its request lines go to the log file too).
    const api = supervise('api', path.join(ROOT, 'api', 'main.ts'), { ...common, LOG_LEVEL: 'info', API_HOST: '127.0.0.1', API_PORT: String(apiPort), PUBLIC_BASE_URL: proxy.url }, /API listening/, logDir, log);
    const worker = supervise(
      'worker',
      path.join(ROOT, 'bench', 'chaos', 'worker-process.ts'),
      { ...common, CHAOS_WORKFLOW_BUNDLE: stack.workflowBundle, CHAOS_FAULT_RATE: String(options.faultRate), CHAOS_FAULT_SEED: options.seed, CHAOS_FAULT_LOG: faultLog },
      /worker polling/,
      logDir,
      log,
    );
    cleanups.push(() => api.stop(), () => worker.stop());
    await withTimeout(Promise.all([api.ready(), worker.ready()]), 180_000, `the API and the worker to start (logs: ${logDir})`);
    log(`API ${apiUrl} (webhooks through ${proxy.url}), worker on task queue ${taskQueue}; logs in ${logDir}`);

    const pool = createPool({ connectionString: stack.databaseUrl, max: 10 });
    // The run restarts PostgreSQL itself: idle and checked-out connections alike may break.
    pool.on('error', () => undefined);
    pool.on('connect', (connected) => connected.on('error', () => undefined));
    cleanups.push(() => pool.end());
    const connection = await Connection.connect({ address: stack.temporalAddress });
    cleanups.push(() => connection.close());
    const temporal = new TemporalClient({ connection });

    const client = new ApiClient(apiUrl);
    const scenarios = planScenarios(options.orders, random);
    const flashScenarios = scenarios.filter((scenario) => scenario.type === 'FLASH_SALE').length;
    // Fewer units than attempts want: the sale sells out, and 0 oversell means something.
    const flashCap = Math.max(2, Math.floor(flashScenarios * 1.2));
    await setUpShop(pool, client, flashCap);
    log(`shop ready; flash-sale cap ${flashCap} units for ${flashScenarios} attempts`);

    const killer = startWorkerKiller(worker, random, options.killMinMs, options.killMaxMs);
    let postgresRestarts = 0;
    const restart = (async () => {
      if (!options.postgresRestart || !stack.canRestartPostgres) return;
      await sleep(Math.max(15_000, options.spreadMs * 0.5));
      log('restarting PostgreSQL (3 s down)');
      await stack.restartPostgres(3_000);
      postgresRestarts += 1;
      log('PostgreSQL is back');
    })();

    log(`driving ${scenarios.length} scenarios`);
    const driven = await drive(scenarios, { pool, actors: actors(client, pool, { waitMs: 240_000 }), runId, spreadMs: options.spreadMs, paymentTimeoutMs: PAYMENT_TIMEOUT_MS, log });
    await restart;
    await killer.stop();
    // Settling ends once only excused orders are left; on a slow machine it may use what the run's
    // deadline leaves (less a minute for the checks and the report), never less than --settle.
    const settleMs = Math.max(options.settleMs, startedAt + options.deadlineMs - 60_000 - Date.now());
    log(`drive done; ${worker.kills} worker kills; settling (up to ${Math.round(settleMs / 1000)}s)`);
    await recordOrders(pool, driven);

    const brokeOffNow = () => new Set(driven.orders.filter((order) => order.error).map((order) => `order-${order.orderId}`));
    const leftRunning = await settle(temporal, pool, taskQueue, settleMs, brokeOffNow);
    // Background steps of the drive (group partners, coupon races) get their last word.
    await sleep(1_000);
    await recordOrders(pool, driven);

    const { checked, violations } = await checkSql(pool);
    const failed = await closedBadly(temporal, taskQueue);
    if (failed.length > 0) violations.push({ invariant: 'no workflow ended FAILED (or timed out, terminated)', rows: failed.map((problem) => ({ ...problem })) });
    // Anything still running after every timer has fired is stuck, unless it waits for the warehouse.
    const brokeOff = brokeOffNow();
    const groupClosedUnderIt = await membersOfClosedGroups(temporal, leftRunning);
    const waitingForActor = leftRunning.filter((left) => waitsForTheWarehouse(left, brokeOff, groupClosedUnderIt));
    const stuck = leftRunning.filter((left) => !waitingForActor.includes(left));
    if (stuck.length > 0) {
      violations.push({ invariant: 'every workflow closed or correctly waiting (NEEDS_ATTENTION with a reason)', rows: stuck });
    }
    checked.push('no workflow ended FAILED (or timed out, terminated)', 'every workflow closed or correctly waiting (NEEDS_ATTENTION with a reason)');
    // A run that did not get its orders into the engine proves nothing: that is a failed run, not a green one.
    const typesDriven = new Set(driven.orders.map((order) => order.type));
    const missingTypes = [...new Set(scenarios.map((scenario) => scenario.type))].filter((type) => !typesDriven.has(type));
    if (missingTypes.length > 0 || driven.failedBeforeOrder.length > scenarios.length * 0.1) {
      violations.push({
        invariant: 'the run drove its orders (every planned type has orders; at most 10% of scenarios failed before their order existed)',
        rows: [{ missingTypes, failedBeforeOrder: driven.failedBeforeOrder.length, scenarios: scenarios.length }],
      });
    }
    checked.push('the run drove its orders');

    const report: RunReport = {
      runId,
      seed: options.seed,
      options: { ...options },
      durationS: Math.round((Date.now() - startedAt) / 1000),
      loadAverage: { atStart: loadAtStart, atEnd: os.loadavg()[0] },
      endStates: await endStates(pool),
      unexpected: await unexpectedEnds(pool),
      driveErrors: driven.orders.filter((order) => order.error).map((order) => ({ orderId: order.orderId, type: order.type, path: order.path, error: order.error!, status: order.endStatus })),
      failedBeforeOrder: driven.failedBeforeOrder.map(({ scenario, error }) => ({ ...scenario, error })),
      refused: countBy(driven.refused.map((entry) => `${entry.scenario.type}: ${entry.reason}`)),
      faults: readFaultLog(faultLog),
      worker: { kills: worker.kills, starts: worker.starts, crashes: worker.unexpectedExits.length, medianStartupMs: median(worker.startupMs) },
      api: { starts: api.starts, crashes: api.unexpectedExits },
      postgresRestarts,
      webhooks: proxy.stats,
      http: client.stats,
      internalErrors: Object.fromEntries(client.internalErrors),
      waitingForActor,
      workflows: await countByStatus(temporal, taskQueue),
      failedWorkflows: await annotate(pool, failed),
      needsAttention: await attentionList(pool),
      orders: (await pool.query('SELECT c.*, o.status AS final_status, o.view->>\'phase\' AS phase FROM chaos.orders c LEFT JOIN orders.orders o USING (order_id) ORDER BY scenario')).rows,
      checked,
      violations: violations.map((violation): Violation => ({ ...violation, rows: violation.rows })),
      logDir,
    };
    printReport(report);
    const reportFile = options.report ?? path.join(logDir, 'report.json');
    writeFileSync(reportFile, JSON.stringify(report, null, 2));
    log(`report: ${reportFile}`);
    return violations.length > 0 ? 1 : 0;
  } finally {
    clearTimeout(deadline);
    await cleanUp();
  }
}

/**
 * Waits until every workflow of the run is closed, waiting for ops, or rightly waiting for the
 * warehouse (waitsForTheWarehouse: nothing but an actor moves it); answers those still running,
 * with what each is doing.
 */
async function settle(temporal: TemporalClient, pool: Pool, taskQueue: string, settleMs: number, brokeOff: () => Set<string>) {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const running = await stillRunning(temporal, taskQueue);
    const waitingForOps = await needsAttention(pool);
    const left = await withProjection(pool, running.filter((execution) => !waitingForOps.has(execution.workflowId)));
    const closedGroups = await membersOfClosedGroups(temporal, left);
    const excused = brokeOff();
    if (left.every((execution) => waitsForTheWarehouse(execution, excused, closedGroups)) || Date.now() > deadline) {
      const described = [];
      for (const execution of left) described.push({ ...execution, ...(await whatItWaitsFor(temporal, execution.workflowId)) });
      return described;
    }
    await sleep(3_000);
  }
}

/** Running workflows with their order's projected status, phase, type, path, group and refund requests. */
async function withProjection(pool: Pool, left: { workflowId: string; type: string }[]) {
  if (left.length === 0) return [];
  const details = await pool.query<{ workflow_id: string; status: string; phase: string | null; order_type: string; path: string | null }>(
    `SELECT 'order-' || o.order_id AS workflow_id, o.status, o.view->>'phase' AS phase, o.order_type, c.path, c.error,
            o.view->'group' AS "group", o.view->'afterSales'->'requests' AS refund_requests
       FROM orders.orders o LEFT JOIN chaos.orders c USING (order_id) WHERE 'order-' || o.order_id = ANY($1)`,
    [left.map((execution) => execution.workflowId)],
  );
  const byId = new Map(details.rows.map((row) => [row.workflow_id, row]));
  return left.map((execution): { workflowId: string; type: string; phase?: string | null; group?: unknown } => ({ ...execution, ...(byId.get(execution.workflowId) ?? {}) }));
}

/**
 * What a workflow still running is doing, for the report: its pending activities (attempts, last
 * failure) and the last events it recorded. A run that ends with it tells slow from stuck.
 */
async function whatItWaitsFor(temporal: TemporalClient, workflowId: string) {
  try {
    const handle = temporal.workflow.getHandle(workflowId);
    const description = await handle.describe();
    const pendingActivities = (description.raw.pendingActivities ?? []).map((activity) => ({
      activity: activity.activityType?.name,
      attempt: activity.attempt,
      state: activity.state,
      lastFailure: activity.lastFailure?.message?.slice(0, 200),
    }));
    const recent = workflowId.startsWith('order-')
      ? await handle.query<{ timeline?: { at: string; event: string }[] }>('getOrder').then(
          (view) => (view.timeline ?? []).slice(-4).map((entry) => `${entry.at} ${entry.event}`),
          () => undefined,
        )
      : undefined;
    // A workflow task failing again and again (a bug, a nondeterminism) also leaves a workflow running.
    const taskAttempt = description.raw.pendingWorkflowTask?.attempt ?? undefined;
    let lastTaskFailure: string | undefined;
    if (taskAttempt !== undefined && taskAttempt > 1) {
      const history = await handle.fetchHistory();
      const failed = (history.events ?? []).filter((event) => event.workflowTaskFailedEventAttributes).pop();
      lastTaskFailure = failed?.workflowTaskFailedEventAttributes?.failure?.message?.slice(0, 300) ?? 'timed out';
    }
    return { pendingActivities, recent, ...(taskAttempt !== undefined && taskAttempt > 1 ? { taskAttempt, lastTaskFailure } : {}) };
  } catch (error) {
    return { describeError: (error as Error).message };
  }
}

async function needsAttention(pool: Pool): Promise<Set<string>> {
  const rows = await pool.query<{ order_id: string }>(
    `SELECT order_id FROM orders.orders WHERE (view->>'phase' = 'NEEDS_ATTENTION' OR status = 'NEEDS_ATTENTION')
       AND COALESCE(NULLIF(view->'attention'->>'reason', ''), CASE WHEN jsonb_typeof(view->'attention') = 'string' THEN NULLIF(view->>'attention', '') END) IS NOT NULL`,
  );
  return new Set(rows.rows.map((row) => `order-${row.order_id}`));
}

/**
 * Group-buy orders still waiting for their group's outcome although the group's workflow has closed:
 * nothing will ever tell them (a PAID member of a closed group is stuck, not waiting for the warehouse).
 */
async function membersOfClosedGroups(temporal: TemporalClient, left: { workflowId: string; group?: unknown }[]): Promise<Set<string>> {
  const stuck = new Set<string>();
  for (const row of left) {
    const group = row.group as { groupId?: string; outcome?: string } | null | undefined;
    if (!group?.groupId || group.outcome === 'SUCCEEDED') continue;
    const described = await temporal.workflow.getHandle(`group-${group.groupId}`).describe().catch(() => undefined);
    if (described && described.status.name !== 'RUNNING') stuck.add(row.workflowId);
  }
  return stuck;
}

/** Orders waiting for ops: which step, why. */
async function attentionList(pool: Pool) {
  const rows = await pool.query(
    `SELECT o.order_id, o.order_type, c.path, o.status, o.view->'attention'->>'step' AS step, o.view->'attention'->>'reason' AS reason
       FROM orders.orders o LEFT JOIN chaos.orders c USING (order_id)
      WHERE o.view->>'phase' = 'NEEDS_ATTENTION' ORDER BY o.order_type, c.path`,
  );
  return rows.rows as { order_id: string; order_type: string; path: string | null; status: string; step: string | null; reason: string | null }[];
}

async function recordOrders(pool: Pool, driven: DriveResult): Promise<void> {
  for (const order of driven.orders) {
    await pool.query(
      `INSERT INTO chaos.orders (order_id, scenario, order_type, path, member_id, end_status, expected, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (order_id) DO UPDATE SET end_status = EXCLUDED.end_status, error = EXCLUDED.error`,
      [order.orderId, order.scenario, order.type, order.path, order.memberId, order.endStatus ?? null, order.expected.join('|'), order.error ?? null],
    );
  }
}

async function endStates(pool: Pool): Promise<Record<string, Record<string, number>>> {
  const rows = await pool.query<{ order_type: string; status: string; count: string }>(
    `SELECT o.order_type, COALESCE(NULLIF(o.view->>'phase', ''), o.status) AS status, COUNT(*) AS count
       FROM orders.orders o JOIN chaos.orders USING (order_id) GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const states: Record<string, Record<string, number>> = {};
  for (const row of rows.rows) (states[row.order_type] ??= {})[row.status] = Number(row.count);
  return states;
}

async function unexpectedEnds(pool: Pool) {
  const rows = await pool.query<{ order_id: string; order_type: string; path: string; status: string; expected: string }>(
    `SELECT c.order_id, c.order_type, c.path, COALESCE(o.status, '(no projection)') AS status, c.expected
       FROM chaos.orders c LEFT JOIN orders.orders o USING (order_id)
      WHERE NOT (COALESCE(o.status, '') = ANY(string_to_array(c.expected, '|'))) ORDER BY c.order_type, c.path`,
  );
  return rows.rows;
}

/** Names the order type and path behind each failed workflow (order-, refund-, group- ids). */
async function annotate(pool: Pool, failed: WorkflowProblem[]) {
  const out = [];
  for (const problem of failed) {
    const orderId = problem.workflowId.startsWith('order-')
      ? problem.workflowId.slice('order-'.length)
      : problem.workflowId.startsWith('refund-')
        ? problem.workflowId.slice('refund-'.length).replace(/-rf-[0-9a-f]+$/, '')
        : undefined;
    const row = orderId ? (await pool.query('SELECT order_type, path FROM chaos.orders WHERE order_id = $1', [orderId])).rows[0] : undefined;
    out.push({ ...problem, orderType: row?.order_type, path: row?.path });
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref())]);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`chaos run failed: ${error instanceof Error ? error.stack : error}`);
    process.exit(2);
  },
);
