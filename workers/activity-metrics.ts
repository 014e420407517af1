import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';
import { compensationFailures, compensations, payments, refundedFen, refunds } from '../infra/metrics';

/**
 * Business counters of what workflows decide, counted where it takes effect: in the activity that
 * carries it out (workflow code is deterministic and replays, so it counts nothing). An activity
 * counts once when it completes; its failed attempts count as failures, its retries do not.
 */

/** The undo side of each saga step (workflows/saga.ts, `compensate: ...` summaries). */
const COMPENSATIONS = new Set([
  'releaseStock',
  'releaseCampaignStock',
  'unlockCoupon',
  'returnCoupon',
  'releaseHeldPoints',
  'returnUsedPoints',
  'revokePendingPoints',
  'cancelPaymentIntent',
  'releaseAdmission',
  'returnGroupBuyLimit',
]);

/** What a refund is for, from its business key (`<orderId>:refund-on-cancel`, `<requestId>:refund`...). */
export function refundKind(activityType: string, idempotencyKey: unknown): string {
  if (activityType === 'refundLatePayment') return 'late_payment';
  const key = typeof idempotencyKey === 'string' ? idempotencyKey : '';
  if (/:refund-on-cancel(:retry-\d+)?$/.test(key)) return 'cancellation';
  if (key.endsWith(':refund-deposit')) return 'deposit';
  if (/:refund(:retry-\d+)?$/.test(key)) return 'after_sales';
  return 'other';
}

function isCompensation(activityType: string, input: { idempotencyKey?: unknown } | undefined): boolean {
  if (COMPENSATIONS.has(activityType)) return true;
  // A refund on cancellation undoes the payment step; an after-sales refund is a forward step of its own.
  return activityType === 'refundPayment' && ['cancellation', 'deposit'].includes(refundKind(activityType, input?.idempotencyKey));
}

function countCompleted(activityType: string, input: Record<string, unknown> | undefined, result: unknown): void {
  if (isCompensation(activityType, input)) compensations.inc({ step: activityType });
  if (activityType === 'recordPaymentSucceeded' || activityType === 'settlePayment') payments.inc({ outcome: 'succeeded' });
  if (activityType === 'refundLatePayment') {
    payments.inc({ outcome: 'late' });
    // Nothing went back when the payment was already settled.
    if ((result as { outcome?: string } | undefined)?.outcome === 'nothing') return;
  }
  if (activityType === 'refundPayment' || activityType === 'refundLatePayment') {
    const kind = refundKind(activityType, input?.idempotencyKey);
    refunds.inc({ kind });
    const amountFen = Number(input?.amountFen);
    if (Number.isSafeInteger(amountFen) && amountFen > 0) refundedFen.inc({ kind }, amountFen);
  }
}

export function activityMetricsInterceptor(ctx: Context): ActivityInterceptors {
  return {
    inbound: {
      async execute(input, next) {
        const activityType = ctx.info.activityType;
        const args = input.args[0] as Record<string, unknown> | undefined;
        try {
          const result = await next(input);
          countCompleted(activityType, args, result);
          return result;
        } catch (error) {
          if (isCompensation(activityType, args)) compensationFailures.inc({ step: activityType });
          throw error;
        }
      },
    },
  };
}
