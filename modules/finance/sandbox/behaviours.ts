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

/** Takes one use of the oldest matching behaviour, atomically (two calls never share one use). */
export async function consumeBehaviour(
  db: Pool | PoolClient,
  action: BehaviourAction,
  operation: SandboxOperation,
  orderId: string | null,
  phase?: 'before' | 'after',
): Promise<ConsumedBehaviour | undefined> {
  const consumed = await db.query<{ id: string; delay_ms: number; phase: 'before' | 'after' }>(
    `UPDATE finance_sandbox.behaviours
        SET remaining = remaining - 1
      WHERE id = (
        SELECT id FROM finance_sandbox.behaviours
         WHERE action = $1
           AND (operation IS NULL OR operation = $2)
           AND (order_id IS NULL OR order_id = $3)
           AND ($4::text IS NULL OR phase = $4)
           AND (remaining IS NULL OR remaining > 0)
         ORDER BY id LIMIT 1
         FOR UPDATE SKIP LOCKED)
      RETURNING id, delay_ms, phase`,
    [action, operation, orderId, phase ?? null],
  );
  const row = consumed.rows[0];
  return row ? { id: Number(row.id), delayMs: row.delay_ms, phase: row.phase } : undefined;
}
