import type { Client as TemporalClient } from '@temporalio/client';
import type { Pool } from 'pg';

/**
 * What must hold after a chaos run, stated in SQL over the modules' own tables (and chaos.received,
 * what the run put on hand), plus Temporal visibility for the workflows. Each check returns the rows
 * that break it; none is the only correct answer.
 */
export interface Invariant {
  name: string;
  sql: string;
}

const TERMINAL = `('CANCELLED', 'COMPLETED', 'REFUNDED', 'REJECTED')`;

export const INVARIANTS: Invariant[] = [
  {
    name: 'stock conserved: on_hand + shipped = received (seeded + restocked), per SKU and warehouse',
    sql: `
      WITH shipped AS (SELECT sku_id, warehouse_id, SUM(shipped) AS q FROM inventory.shipments WHERE warehouse_id IS NOT NULL GROUP BY 1, 2),
           restocked AS (SELECT sku_id, warehouse_id, SUM(quantity) AS q FROM inventory.restock_lines GROUP BY 1, 2)
      SELECT s.sku_id, s.warehouse_id, s.on_hand, COALESCE(sh.q, 0) AS shipped, COALESCE(r.quantity, 0) AS seeded, COALESCE(rs.q, 0) AS restocked
        FROM inventory.stock s
        LEFT JOIN shipped sh USING (sku_id, warehouse_id)
        LEFT JOIN chaos.received r USING (sku_id, warehouse_id)
        LEFT JOIN restocked rs USING (sku_id, warehouse_id)
       WHERE s.on_hand + COALESCE(sh.q, 0) <> COALESCE(r.quantity, 0) + COALESCE(rs.q, 0)`,
  },
  {
    name: 'returns: units restocked = units marked returned on shipments, per SKU',
    sql: `
      WITH restocked AS (SELECT sku_id, SUM(quantity) AS q FROM inventory.restock_lines GROUP BY 1),
           returned AS (SELECT sku_id, SUM(returned) AS q FROM inventory.shipments GROUP BY 1)
      SELECT sku_id, COALESCE(rs.q, 0) AS restocked, COALESCE(rt.q, 0) AS returned
        FROM restocked rs FULL JOIN returned rt USING (sku_id)
       WHERE COALESCE(rs.q, 0) <> COALESCE(rt.q, 0)`,
  },
  {
    name: 'reserved = sum of open reservations, per SKU and warehouse',
    sql: `
      WITH open AS (SELECT a.sku_id, a.warehouse_id, SUM(a.quantity) AS q
                      FROM inventory.reservations r JOIN inventory.reservation_allocations a ON a.reservation_key = r.key
                     WHERE r.status = 'RESERVED' GROUP BY 1, 2)
      SELECT s.sku_id, s.warehouse_id, s.reserved, COALESCE(o.q, 0) AS open_reservations
        FROM inventory.stock s LEFT JOIN open o USING (sku_id, warehouse_id)
       WHERE s.reserved <> COALESCE(o.q, 0)`,
  },
  {
    name: 'campaign stock: reserved = open campaign reservations, sold = committed ones, reserved + sold <= cap',
    sql: `
      WITH r AS (SELECT campaign_id, sku_id,
                        SUM(quantity) FILTER (WHERE status = 'RESERVED') AS reserved,
                        SUM(quantity) FILTER (WHERE status = 'COMMITTED') AS sold
                   FROM inventory.campaign_reservations GROUP BY 1, 2)
      SELECT c.campaign_id, c.sku_id, c.cap, c.reserved, c.sold, COALESCE(r.reserved, 0) AS open_reservations, COALESCE(r.sold, 0) AS committed
        FROM inventory.campaign_stock c LEFT JOIN r USING (campaign_id, sku_id)
       WHERE c.reserved <> COALESCE(r.reserved, 0) OR c.sold <> COALESCE(r.sold, 0) OR c.reserved + c.sold > c.cap`,
  },
  {
    name: 'campaign units shipped = campaign units sold, per SKU',
    sql: `
      WITH shipped AS (SELECT sku_id, SUM(shipped) AS q FROM inventory.shipments WHERE warehouse_id IS NULL GROUP BY 1),
           sold AS (SELECT sku_id, SUM(sold) AS q FROM inventory.campaign_stock GROUP BY 1)
      SELECT sku_id, COALESCE(shipped.q, 0) AS shipped, COALESCE(sold.q, 0) AS sold
        FROM shipped FULL JOIN sold USING (sku_id)
       WHERE COALESCE(shipped.q, 0) <> COALESCE(sold.q, 0)`,
  },
  {
    name: '0 oversell: no stock below zero or reserved beyond on hand, no order shipped more than it ordered',
    sql: `
      SELECT 'stock' AS what, sku_id || '@' || warehouse_id AS id, on_hand::text AS detail FROM inventory.stock WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand
      UNION ALL
      SELECT 'order', sh.order_id || ' ' || sh.sku_id, sh.shipped::text || ' shipped of ' || o.ordered::text
        FROM (SELECT order_id, sku_id, SUM(shipped) AS shipped FROM inventory.shipments GROUP BY 1, 2) sh
        JOIN (SELECT order_id, l->>'skuId' AS sku_id, SUM((l->>'quantity')::int) AS ordered
                FROM orders.orders, jsonb_array_elements(view->'lines') l GROUP BY 1, 2) o USING (order_id, sku_id)
       WHERE sh.shipped > o.ordered`,
  },
  {
    name: '0 oversell (flash sale): taken = admitted units <= cap, each buyer within the limit',
    sql: `
      WITH admitted AS (SELECT campaign_id, SUM(quantity) AS q FROM flash_sale.admissions WHERE status = 'ADMITTED' GROUP BY 1),
           per_buyer AS (SELECT campaign_id, customer_id, SUM(quantity) AS q FROM flash_sale.admissions WHERE status = 'ADMITTED' GROUP BY 1, 2)
      SELECT 'campaign' AS what, c.campaign_id AS id, c.taken || ' taken, ' || COALESCE(a.q, 0) || ' admitted, cap ' || c.cap AS detail
        FROM flash_sale.campaigns c LEFT JOIN admitted a USING (campaign_id)
       WHERE c.taken <> COALESCE(a.q, 0) OR c.taken > c.cap
      UNION ALL
      SELECT 'buyer', b.campaign_id || '/' || b.customer_id, b.units || ' units held, ' || COALESCE(p.q, 0) || ' admitted, limit ' || c.per_user_limit
        FROM flash_sale.buyers b JOIN flash_sale.campaigns c USING (campaign_id) LEFT JOIN per_buyer p USING (campaign_id, customer_id)
       WHERE (c.limit_unit = 'UNITS' AND (b.units > c.per_user_limit OR b.units <> COALESCE(p.q, 0)))`,
  },
  {
    name: 'every journal entry balanced (debits = credits, at least two lines)',
    sql: `
      SELECT e.id, e.kind, e.order_id, COALESCE(SUM(l.debit_fen), 0) AS debits, COALESCE(SUM(l.credit_fen), 0) AS credits, COUNT(l.id) AS lines
        FROM finance.journal_entries e LEFT JOIN finance.journal_lines l ON l.entry_id = e.id
       GROUP BY e.id HAVING COALESCE(SUM(l.debit_fen), 0) <> COALESCE(SUM(l.credit_fen), 0) OR COUNT(l.id) < 2`,
  },
  {
    name: 'cash = captured − refunded, to the fen (ledger, finance payments, provider)',
    sql: `
      WITH ledger AS (SELECT COALESCE(SUM(debit_fen - credit_fen), 0) AS cash FROM finance.journal_lines WHERE account = 'cash:provider'),
           fin AS (SELECT (SELECT COALESCE(SUM(captured_fen), 0) FROM finance.payments)
                        - (SELECT COALESCE(SUM(amount_fen), 0) FROM finance.refunds WHERE state = 'SUCCEEDED') AS net),
           provider AS (SELECT COALESCE(SUM(CASE kind WHEN 'capture' THEN amount_fen ELSE -amount_fen END), 0) AS net FROM finance_sandbox.transactions)
      SELECT ledger.cash AS ledger_cash, fin.net AS finance_captured_minus_refunded, provider.net AS provider_captured_minus_refunded
        FROM ledger, fin, provider
       WHERE ledger.cash <> fin.net OR fin.net <> provider.net`,
  },
  {
    name: 'no payment captured twice (provider and finance)',
    sql: `
      SELECT 'provider intent' AS side, intent_id AS id, COUNT(*) AS captures FROM finance_sandbox.transactions WHERE kind = 'capture' GROUP BY intent_id HAVING COUNT(*) > 1
      UNION ALL
      SELECT 'ledger capture ref', external_ref, COUNT(*) FROM finance.journal_entries WHERE kind = 'PAYMENT_CAPTURED' GROUP BY external_ref HAVING COUNT(*) > 1
      UNION ALL
      SELECT 'ledger captures vs payments', e.order_id, COUNT(*) FROM finance.journal_entries e WHERE e.kind = 'PAYMENT_CAPTURED'
       GROUP BY e.order_id HAVING COUNT(*) > (SELECT COUNT(*) FROM finance.payments p WHERE p.order_id = e.order_id AND p.captured_fen > 0)`,
  },
  {
    name: 'no payment refunded twice (provider and finance agree per order; one ledger entry per provider refund)',
    sql: `
      WITH provider AS (SELECT i.order_id, SUM(t.amount_fen) AS refunded FROM finance_sandbox.transactions t JOIN finance_sandbox.intents i ON i.id = t.intent_id
                         WHERE t.kind = 'refund' GROUP BY 1),
           fin AS (SELECT order_id, SUM(amount_fen) AS refunded FROM finance.refunds WHERE state = 'SUCCEEDED' GROUP BY 1)
      SELECT 'provider vs finance' AS side, order_id AS id, COALESCE(provider.refunded, 0) || ' at the provider, ' || COALESCE(fin.refunded, 0) || ' in finance' AS detail
        FROM provider FULL JOIN fin USING (order_id) WHERE COALESCE(provider.refunded, 0) <> COALESCE(fin.refunded, 0)
      UNION ALL
      SELECT 'ledger refund ref', external_ref, COUNT(*)::text FROM finance.journal_entries WHERE kind = 'REFUND' GROUP BY external_ref HAVING COUNT(*) > 1
      UNION ALL
      SELECT 'finance refund id', provider_refund_id, COUNT(*)::text FROM finance.refunds WHERE provider_refund_id IS NOT NULL GROUP BY provider_refund_id HAVING COUNT(*) > 1`,
  },
  {
    name: 'refunded <= captured per order (provider and finance)',
    sql: `
      SELECT 'provider' AS side, i.order_id AS id,
             SUM(CASE t.kind WHEN 'capture' THEN t.amount_fen ELSE 0 END) AS captured, SUM(CASE t.kind WHEN 'refund' THEN t.amount_fen ELSE 0 END) AS refunded
        FROM finance_sandbox.transactions t JOIN finance_sandbox.intents i ON i.id = t.intent_id GROUP BY i.order_id
      HAVING SUM(CASE t.kind WHEN 'refund' THEN t.amount_fen ELSE 0 END) > SUM(CASE t.kind WHEN 'capture' THEN t.amount_fen ELSE 0 END)
      UNION ALL
      SELECT 'finance', p.order_id, SUM(p.captured_fen), (SELECT COALESCE(SUM(amount_fen), 0) FROM finance.refunds r WHERE r.order_id = p.order_id AND r.state = 'SUCCEEDED')
        FROM finance.payments p GROUP BY p.order_id
      HAVING (SELECT COALESCE(SUM(amount_fen), 0) FROM finance.refunds r WHERE r.order_id = p.order_id AND r.state = 'SUCCEEDED') > SUM(p.captured_fen)`,
  },
  {
    name: 'a closed order that kept no sale keeps no money (CANCELLED/REFUNDED/REJECTED: captured − refunded − forfeited = 0)',
    sql: `
      WITH provider AS (SELECT i.order_id, SUM(CASE t.kind WHEN 'capture' THEN t.amount_fen ELSE -t.amount_fen END) AS net
                          FROM finance_sandbox.transactions t JOIN finance_sandbox.intents i ON i.id = t.intent_id GROUP BY 1),
           forfeited AS (SELECT order_id, SUM(forfeited_fen) AS q FROM finance.payments GROUP BY 1)
      SELECT o.order_id, o.order_type, o.status, provider.net AS kept_at_provider, COALESCE(f.q, 0) AS forfeited
        FROM orders.orders o JOIN provider USING (order_id) LEFT JOIN forfeited f USING (order_id)
       WHERE o.status IN ('CANCELLED', 'REFUNDED', 'REJECTED') AND provider.net - COALESCE(f.q, 0) <> 0`,
  },
  {
    name: "the order's refunded figure = the money refunded (orders.orders.refunded_fen = finance refunds)",
    sql: `
      WITH fin AS (SELECT order_id, SUM(amount_fen) AS refunded FROM finance.refunds WHERE state = 'SUCCEEDED' GROUP BY 1)
      SELECT o.order_id, o.order_type, o.status, o.view->>'phase' AS phase, o.refunded_fen AS order_says, COALESCE(fin.refunded, 0) AS finance_refunded
        FROM orders.orders o LEFT JOIN fin USING (order_id)
       WHERE o.refunded_fen <> COALESCE(fin.refunded, 0)`,
  },
  {
    name: 'coupon used at most once (one paid order per coupon; USED only by a sale that kept it)',
    sql: `
      SELECT 'orders per coupon' AS what, view->>'couponId' AS id, COUNT(*)::text AS detail FROM orders.orders
       WHERE view->>'couponId' IS NOT NULL AND status IN ('PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED', 'FINAL_PAYMENT_DUE')
       GROUP BY 1, 2 HAVING COUNT(*) > 1
      UNION ALL
      SELECT 'coupon still USED by a cancelled or refunded order', c.id, o.order_id || ' ' || o.status FROM marketing.coupons c JOIN orders.orders o ON o.order_id = c.used_by_order
       WHERE c.state = 'USED' AND o.status IN ('CANCELLED', 'REJECTED', 'REFUNDED')`,
  },
  {
    name: 'points balance = sum of its entries (available, pending, held); held = open holds',
    sql: `
      WITH sums AS (SELECT member_id, SUM(delta_available) AS a, SUM(delta_pending) AS p, SUM(delta_held) AS h FROM member.points_entries GROUP BY 1),
           holds AS (SELECT member_id, SUM(points) AS h FROM member.point_holds WHERE state = 'HELD' GROUP BY 1)
      SELECT b.member_id, b.available, COALESCE(s.a, 0) AS entries_available, b.pending, COALESCE(s.p, 0) AS entries_pending,
             b.held, COALESCE(s.h, 0) AS entries_held, COALESCE(holds.h, 0) AS open_holds
        FROM member.points_balances b LEFT JOIN sums s USING (member_id) LEFT JOIN holds USING (member_id)
       WHERE b.available <> COALESCE(s.a, 0) OR b.pending <> COALESCE(s.p, 0) OR b.held <> COALESCE(s.h, 0) OR b.held <> COALESCE(holds.h, 0)`,
  },
  {
    name: 'a closed order holds nothing (no open stock or campaign reservation, point hold, locked coupon, admitted flash unit)',
    sql: `
      SELECT 'stock reservation' AS what, r.order_id AS id, o.status AS detail FROM inventory.reservations r JOIN orders.orders o USING (order_id)
       WHERE r.status = 'RESERVED' AND o.status IN ${TERMINAL}
      UNION ALL
      SELECT 'campaign reservation', r.order_id, o.status FROM inventory.campaign_reservations r JOIN orders.orders o USING (order_id)
       WHERE r.status = 'RESERVED' AND o.status IN ${TERMINAL}
      UNION ALL
      SELECT 'point hold', h.order_id, o.status FROM member.point_holds h JOIN orders.orders o USING (order_id)
       WHERE h.state = 'HELD' AND o.status IN ${TERMINAL}
      UNION ALL
      SELECT 'locked coupon', c.locked_by_order, o.status FROM marketing.coupons c JOIN orders.orders o ON o.order_id = c.locked_by_order
       WHERE c.state = 'LOCKED' AND o.status IN ${TERMINAL}
      UNION ALL
      SELECT 'flash-sale unit', a.order_id, o.status FROM flash_sale.admissions a JOIN orders.orders o USING (order_id)
       WHERE a.status = 'ADMITTED' AND o.status IN ('CANCELLED', 'REJECTED')`,
  },
  {
    name: 'no order in NEEDS_ATTENTION without a reason',
    sql: `
      SELECT order_id, order_type, status, view->'attention' AS attention FROM orders.orders
       WHERE (view->>'phase' = 'NEEDS_ATTENTION' OR status = 'NEEDS_ATTENTION')
         AND COALESCE(NULLIF(view->'attention'->>'reason', ''),
                      CASE WHEN jsonb_typeof(view->'attention') = 'string' THEN NULLIF(view->>'attention', '') END) IS NULL`,
  },
  {
    // modules/events: an order's events are written with its projection, from its timeline.
    name: 'one event per effect, none without its effect (the order facts of each projection = its outbox events; one refund.decided per decision)',
    sql: `
      WITH facts AS (
        SELECT CASE e->>'event'
                 WHEN 'awaiting payment' THEN o.order_id || ':placed'
                 WHEN 'rejected' THEN o.order_id || ':rejected'
                 WHEN 'paid' THEN CASE WHEN e->>'phase' = 'PAID' THEN o.order_id || ':paid' END
                 WHEN 'cancelled' THEN o.order_id || ':cancelled'
                 WHEN 'shipped' THEN o.order_id || ':1:shipped'
                 WHEN 'parcel shipped' THEN (e->'detail'->>'parcelId') || ':shipped'
                 WHEN 'parcel delivered' THEN (e->'detail'->>'parcelId') || ':delivered'
                 WHEN 'delivered' THEN CASE WHEN jsonb_array_length(COALESCE(o.view->'parcels', '[]')) = 0 THEN o.order_id || ':1:delivered' END
                 WHEN 'completed' THEN o.order_id || ':completed'
                 WHEN 'final payment reminder' THEN o.order_id || ':final-payment-due'
                 WHEN 'refund requested' THEN (e->'detail'->>'requestId') || ':requested'
                 WHEN 'refund paid' THEN (e->'detail'->>'requestId') || ':paid'
                 WHEN 'group succeeded' THEN o.order_id || ':group-succeeded'
                 WHEN 'group failed' THEN o.order_id || ':group-failed'
               END AS event_id
          FROM orders.orders o, jsonb_array_elements(o.view->'timeline') e
        UNION
        -- A parcelled order's parcels delivered with the order (buyer confirmation, auto-confirm).
        SELECT p->>'parcelId' || ':delivered'
          FROM orders.orders o, jsonb_array_elements(COALESCE(o.view->'parcels', '[]')) p
         WHERE p->>'status' = 'DELIVERED' AND o.view->'timeline' @> '[{"event": "delivered"}]'
        UNION
        SELECT request_id || ':decided' FROM after_sales.decisions
      ),
      events AS (
        SELECT event_id FROM events.outbox
         WHERE type IN ('order.placed', 'order.rejected', 'order.paid', 'order.cancelled', 'order.completed', 'parcel.shipped', 'parcel.delivered',
                        'presale.final_payment_due', 'refund.requested', 'refund.paid', 'refund.decided', 'group.succeeded', 'group.failed')
      )
      SELECT COALESCE(f.event_id, e.event_id) AS event_id, CASE WHEN e.event_id IS NULL THEN 'effect without event' ELSE 'event without effect' END AS problem
        FROM (SELECT DISTINCT event_id FROM facts WHERE event_id IS NOT NULL) f FULL JOIN events e USING (event_id)
       WHERE f.event_id IS NULL OR e.event_id IS NULL
      UNION ALL
      SELECT e.event_id, 'order.paid without captured money' FROM events.outbox e
       WHERE e.type = 'order.paid' AND (e.data->>'paidFen')::bigint > 0
         AND NOT EXISTS (SELECT 1 FROM finance.payments p WHERE p.order_id = e.order_id AND p.captured_fen > 0)`,
  },
  {
    name: 'every order of the run has its projection row',
    sql: `SELECT c.order_id, c.order_type, c.path FROM chaos.orders c LEFT JOIN orders.orders o USING (order_id) WHERE o.order_id IS NULL`,
  },
];

export interface Violation {
  invariant: string;
  rows: Record<string, unknown>[];
}

export async function checkSql(pool: Pool): Promise<{ checked: string[]; violations: Violation[] }> {
  const violations: Violation[] = [];
  for (const invariant of INVARIANTS) {
    try {
      const result = await pool.query(invariant.sql);
      if (result.rows.length > 0) violations.push({ invariant: invariant.name, rows: result.rows });
    } catch (error) {
      violations.push({ invariant: invariant.name, rows: [{ error: `the check itself failed: ${(error as Error).message}` }] });
    }
  }
  return { checked: INVARIANTS.map((invariant) => invariant.name), violations };
}

export interface WorkflowProblem {
  workflowId: string;
  type: string;
  status: string;
  detail: string;
}

/** Workflows of the run's task queue that ended FAILED / TIMED_OUT / TERMINATED, with the failure. */
export async function closedBadly(temporal: TemporalClient, taskQueue: string): Promise<WorkflowProblem[]> {
  const problems: WorkflowProblem[] = [];
  const query = `TaskQueue = "${taskQueue}" AND (ExecutionStatus = "Failed" OR ExecutionStatus = "TimedOut" OR ExecutionStatus = "Terminated")`;
  for await (const execution of temporal.workflow.list({ query })) {
    problems.push({ workflowId: execution.workflowId, type: execution.type, status: execution.status.name, detail: await failureOf(temporal, execution.workflowId, execution.runId) });
  }
  return problems;
}

/**
 * A workflow still running after settling is rightly waiting only when its scenario broke off (a
 * step did not get its answer) and its order is in phase PAID, waiting for the warehouse, with its
 * group (if any) still able to tell it the outcome. The phase, not the status: an order that is
 * CANCELLING (compensations under way) still shows status PAID, and is stuck, not waiting.
 */
export function waitsForTheWarehouse(left: { workflowId: string; phase?: string | null }, brokeOff: Set<string>, groupClosedUnderIt: Set<string>): boolean {
  return brokeOff.has(left.workflowId) && left.phase === 'PAID' && !groupClosedUnderIt.has(left.workflowId);
}

/** Workflows of the run's task queue still running (after settling, only orders waiting for ops may be). */
export async function stillRunning(temporal: TemporalClient, taskQueue: string): Promise<{ workflowId: string; type: string }[]> {
  const running: { workflowId: string; type: string }[] = [];
  for await (const execution of temporal.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) {
    running.push({ workflowId: execution.workflowId, type: execution.type });
  }
  return running;
}

export async function countByStatus(temporal: TemporalClient, taskQueue: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for await (const execution of temporal.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
    const key = `${execution.type} ${execution.status.name}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The failure message of a closed workflow and the last activity failure before it (the failing step). */
async function failureOf(temporal: TemporalClient, workflowId: string, runId: string): Promise<string> {
  try {
    const history = await temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const failed = events.find((event) => event.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes;
    const scheduled = new Map<string, string>();
    let lastActivityFailure = '';
    for (const event of events) {
      const scheduledAttributes = event.activityTaskScheduledEventAttributes;
      if (scheduledAttributes) scheduled.set(String(event.eventId), scheduledAttributes.activityType?.name ?? '?');
      const failedAttributes = event.activityTaskFailedEventAttributes;
      if (failedAttributes && failedAttributes.failure?.applicationFailureInfo?.nonRetryable) {
        lastActivityFailure = `activity ${scheduled.get(String(failedAttributes.scheduledEventId)) ?? '?'} failed: ${failedAttributes.failure?.message}`;
      }
    }
    const message = failed?.failure ? chain(failed.failure) : 'no failure event';
    return lastActivityFailure ? `${message} (after ${lastActivityFailure})` : message;
  } catch (error) {
    return `history unavailable: ${(error as Error).message}`;
  }
}

function chain(failure: { message?: string | null; cause?: unknown }): string {
  const parts: string[] = [];
  let current: { message?: string | null; cause?: unknown } | undefined = failure;
  while (current && parts.length < 4) {
    if (current.message) parts.push(current.message);
    current = current.cause as typeof current;
  }
  return parts.join(' ← ');
}
