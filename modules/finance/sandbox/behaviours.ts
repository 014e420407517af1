import type { Pool, PoolClient } from 'pg';
import { z } from 'zod';

/**
 * Scripted misbehaviour of the sandbox, so tests and demos exercise the unhappy paths for real:
 * - decline: the buyer's payment (operation 'pay') or a refund is refused;
 * - delay: the webhook of the next events waits `delayMs` before its first delivery;
 * - error: a provider API call throws a retryable error, before doing anything ('before') or after
 *   its effect committed, as when a response is lost on the way back ('after').
 * A behaviour applies to the next `count` matching calls, or to every matching call while it exists
 * when `count` is omitted; `operation` and `orderId` narrow what matches.
 */
export const sandboxOperations = ['createIntent', 'pay', 'capture', 'refund', 'cancel', 'listTransactions', 'webhook'] as const;
export type SandboxOperation = (typeof sandboxOperations)[number];

export const behaviourSchema = z.object({
  action: z.enum(['decline', 'delay', 'error']),
  count: z.number().int().positive().optional(),
  operation: z.enum(sandboxOperations).optional(),
  orderId: z.string().min(1).optional(),
  delayMs: z.number().int().min(0).max(600_000).default(0),
  phase: z.enum(['before', 'after']).default('before'),
});
export type BehaviourInput = z.input<typeof behaviourSchema>;
export type BehaviourAction = z.infer<typeof behaviourSchema>['action'];

export interface ConsumedBehaviour {
  id: number;
  delayMs: number;
  phase: 'before' | 'after';
}

export async function addBehaviour(pool: Pool, input: BehaviourInput): Promise<{ id: number }> {
  const behaviour = behaviourSchema.parse(input);
  const inserted = await pool.query<{ id: string }>(
    `INSERT INTO finance_sandbox.behaviours (action, operation, order_id, remaining, delay_ms, phase)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [behaviour.action, behaviour.operation ?? null, behaviour.orderId ?? null, behaviour.count ?? null, behaviour.delayMs, behaviour.phase],
  );
  return { id: Number(inserted.rows[0].id) };
}

export async function clearBehaviours(pool: Pool): Promise<void> {
  await pool.query('DELETE FROM finance_sandbox.behaviours');
}

/**
 * What scripts one provider call, read once at its start: whether any behaviour has uses left. When
 * none has, the call's later lookups (its error after the effect, a decline, a webhook's delay) need
 * no query: a call costs one statement of the sandbox's scripting, not up to four (issue 17: the bench
 * pays through the sandbox). A behaviour added while a call runs applies from the next call on.
 */
export interface CallScript {
  /** As consumeBehaviour; undefined without a query when nothing was active at the call's start. */
  consume(db: Pool | PoolClient, action: BehaviourAction, operation: SandboxOperation, orderId: string | null, phase?: 'before' | 'after'): Promise<ConsumedBehaviour | undefined>;
}

function scriptOf(active: boolean): CallScript {
  return { consume: (db, action, operation, orderId, phase) => (active ? consumeBehaviour(db, action, operation, orderId, phase) : Promise.resolve(undefined)) };
}

const LIVE = '(remaining IS NULL OR remaining > 0)';

/** Takes one use of the oldest matching behaviour ($1 action, $2 operation, `order` the order, $4 phase); RETURNING is the caller's. */
function consumeSql(order: string): string {
  return `UPDATE finance_sandbox.behaviours
        SET remaining = remaining - 1
      WHERE id = (
        SELECT id FROM finance_sandbox.behaviours
         WHERE action = $1
           AND (operation IS NULL OR operation = $2)
           AND (order_id IS NULL OR order_id = ${order})
           AND ($4::text IS NULL OR phase = $4)
           AND ${LIVE}
         ORDER BY id LIMIT 1
         FOR UPDATE SKIP LOCKED)`;
}

/** The order is $3. */
const CONSUME_SQL = consumeSql('$3');

/**
 * Starts a call: its script, and (with `errorBefore`) the use of an error scripted before its effect,
 * in one statement.
 */
export async function startCall(
  pool: Pool,
  errorBefore?: { operation: SandboxOperation; orderId: string | null },
): Promise<{ script: CallScript; failsBefore: boolean }> {
  if (!errorBefore) {
    const found = await pool.query<{ active: boolean }>(`SELECT EXISTS (SELECT 1 FROM finance_sandbox.behaviours WHERE ${LIVE}) AS active`);
    return { script: scriptOf(found.rows[0].active), failsBefore: false };
  }
  const found = await pool.query<{ active: boolean; failed: boolean }>(
    `WITH consumed AS (${CONSUME_SQL} RETURNING id)
     SELECT EXISTS (SELECT 1 FROM finance_sandbox.behaviours WHERE ${LIVE}) AS active, EXISTS (SELECT 1 FROM consumed) AS failed`,
    ['error', errorBefore.operation, errorBefore.orderId, 'before'],
  );
  return { script: scriptOf(found.rows[0].active), failsBefore: found.rows[0].failed };
}

/**
 * startCall for a call on an intent ($3): the intent's order is read in the same statement.
 * Undefined when there is no such intent (and nothing was consumed).
 */
export async function startIntentCall(pool: Pool, operation: SandboxOperation, intentId: string): Promise<{ orderId: string; script: CallScript; failsBefore: boolean } | undefined> {
  const found = await pool.query<{ order_id: string | null; active: boolean; failed: boolean }>(
    `WITH intent AS (SELECT order_id FROM finance_sandbox.intents WHERE id = $3),
          consumed AS (${consumeSql('(SELECT order_id FROM intent)')} AND EXISTS (SELECT 1 FROM intent) RETURNING id)
     SELECT (SELECT order_id FROM intent) AS order_id, EXISTS (SELECT 1 FROM finance_sandbox.behaviours WHERE ${LIVE}) AS active, EXISTS (SELECT 1 FROM consumed) AS failed`,
    ['error', operation, intentId, 'before'],
  );
  const { order_id: orderId, active, failed } = found.rows[0];
  return orderId === null ? undefined : { orderId, script: scriptOf(active), failsBefore: failed };
}

/** Takes one use of the oldest matching behaviour, atomically (two calls never share one use). */
export async function consumeBehaviour(
  db: Pool | PoolClient,
  action: BehaviourAction,
  operation: SandboxOperation,
  orderId: string | null,
  phase?: 'before' | 'after',
): Promise<ConsumedBehaviour | undefined> {
  const consumed = await db.query<{ id: string; delay_ms: number; phase: 'before' | 'after' }>(
    `${CONSUME_SQL}
      RETURNING id, delay_ms, phase`,
    [action, operation, orderId, phase ?? null],
  );
  const row = consumed.rows[0];
  return row ? { id: Number(row.id), delayMs: row.delay_ms, phase: row.phase } : undefined;
}
