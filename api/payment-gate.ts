import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { judgePaymentNotice, PAYMENT_BY_INTENT_JSON, paymentFromJson, recordRefusedNotification, type PaymentNotice } from '../modules/finance';
import { orderWorkflowId, paymentFailedSignal, paymentSucceededSignal } from '../workflows/order/definitions';
import type { latePaymentRefundWorkflow } from '../workflows/order/late-payment';
import { isError } from './temporal';

export interface GateDeps {
  pool: Pool;
  temporal: Client;
  taskQueue: string;
}

/** A provider's notification, reduced to what the order needs; `other` is recorded only. */
export type ProviderEvent = PaymentNotice & { type: 'payment.succeeded' | 'payment.failed' | 'other'; kind: string; paidAt: string; failureReason?: string };

export type GateOutcome = 'applied' | 'duplicate' | 'refused' | 'recorded';

/**
 * Every provider's notifications take this one path: a duplicate has no effect; a payment that does
 * not match our record of the intent is refused and kept for ops, never applied; the rest reaches the
 * order's workflow (or, when that has finished, a refund). Effect first, record second: a crash in
 * between makes the provider deliver again, and the workflow ignores an event id it has seen.
 */
export async function acceptProviderEvent(deps: GateDeps, event: ProviderEvent): Promise<GateOutcome> {
  // The duplicate check and our record of the intent in one statement (issue 17: a round trip per notification less).
  const read = await deps.pool.query<{ seen: boolean; payment: unknown }>(
    `SELECT EXISTS (SELECT 1 FROM orders.payment_events WHERE event_id = $1) AS seen, ${PAYMENT_BY_INTENT_JSON('$2')} AS payment`,
    [event.eventId, event.intentId],
  );
  if (read.rows[0].seen) return 'duplicate';
  const payment = paymentFromJson(read.rows[0].payment);
  let orderId = event.orderId ?? '';
  if (event.type === 'other' && !orderId) orderId = payment?.orderId ?? '';
  if (event.type !== 'other') {
    // A failure moves no money: only its intent and order must be ours.
    const verdict = judgePaymentNotice(payment, event, { money: event.type === 'payment.succeeded' });
    if (!verdict.accepted) {
      await recordRefusedNotification(deps.pool, event, verdict.reason, verdict.payment);
      return 'refused';
    }
    orderId = verdict.payment.orderId;
    await deliver(deps, { ...event, orderId, currency: verdict.payment.currency, amountFen: verdict.payment.amountFen });
  }
  await deps.pool.query(
    `INSERT INTO orders.payment_events (event_id, order_id, kind, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING`,
    [event.eventId, orderId, event.kind, JSON.stringify(event.received)],
  );
  return event.type === 'other' ? 'recorded' : 'applied';
}

async function deliver(deps: GateDeps, event: ProviderEvent & { orderId: string; amountFen: number }): Promise<void> {
  const { orderId, intentId, amountFen, currency, eventId } = event;
  const order = deps.temporal.workflow.getHandle(orderWorkflowId(orderId));
  try {
    if (event.type === 'payment.succeeded') {
      await order.signal(paymentSucceededSignal, { eventId, intentId, amountFen, currency, paidAt: event.paidAt });
    } else if (event.type === 'payment.failed') {
      await order.signal(paymentFailedSignal, { eventId, intentId, reason: event.failureReason ?? 'declined' });
    }
  } catch (error) {
    if (!isError(error, 'WorkflowNotFoundError')) throw error;
    // The order's workflow has finished (cancelled, say): money that arrives now goes back.
    if (event.type === 'payment.succeeded') {
      await deps.temporal.workflow
        .start<typeof latePaymentRefundWorkflow>('latePaymentRefundWorkflow', {
          taskQueue: deps.taskQueue,
          workflowId: `late-payment-${eventId}`,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          args: [{ eventId, orderId, intentId, amountFen, currency }],
          staticSummary: `Refund a payment that reached finished order ${orderId}`,
        })
        .catch((startError) => {
          if (!isError(startError, 'WorkflowExecutionAlreadyStartedError')) throw startError;
        });
    }
  }
}
