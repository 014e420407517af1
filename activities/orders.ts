import { systemClock } from '../modules/shared/db';
import { createOrderProjection } from '../modules/orders/projection';
import type { OrderView } from '../workflows/order/definitions';
import type { ShippingAddress } from '../modules/logistics/addresses';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

export interface AttentionActionRecord {
  idempotencyKey: string;
  orderId: string;
  action: 'RETRY' | 'RESOLVE';
  actor: string;
  reason: string;
  step: string;
  workflowId: string;
  runId: string;
}

/** Activities of the order itself (its PostgreSQL projection). */
export function createOrderActivities({ pool, clock }: ActivityDeps) {
  const projection = createOrderProjection({ pool });
  const now = clock ?? systemClock;
  return {
    /**
     * The order's view in orders.orders (and its new events). `withParcels`: its parcels' rows too
     * (the warehouse's and support's lists); `withAddress`: the address it ships to (a placement's,
     * version 1); in the same statement, so a change is one local activity and one round trip.
     */
    async projectOrder(view: OrderView, options: { withParcels?: boolean; withAddress?: { version: number; address: ShippingAddress } } = {}): Promise<void> {
      // asActivity: an address that fails its schema (validated by the API before placement) is not retried for ever.
      await asActivity(() =>
        projection.save(view, { ...(options.withParcels ? { withParcels: { now: now() } } : {}), ...(options.withAddress ? { withAddress: options.withAddress } : {}) }),
      );
    },
    /** Audit of ops' answer to an order in NEEDS_ATTENTION (append-only; once per key). */
    async recordAttentionAction(action: AttentionActionRecord): Promise<void> {
      await pool.query(
        `INSERT INTO orders.attention_actions (idempotency_key, order_id, action, actor, reason, step, workflow_id, run_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (idempotency_key) DO NOTHING`,
        [action.idempotencyKey, action.orderId, action.action, action.actor, action.reason, action.step, action.workflowId, action.runId],
      );
    },
  };
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;
