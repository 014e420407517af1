import { ActivityFailure, ApplicationFailure, sleep } from '@temporalio/workflow';
import { mustComplete } from '../shared/activities';
import type { RefundPlan, RefundRequestInput } from './definitions';

type Record = (event: string, detail?: { [key: string]: unknown }) => void;

/** The effects of an approved refund, each once by its key (a retry or replay never repeats one). */
export async function executeRefund(input: RefundRequestInput, plan: RefundPlan, record: Record): Promise<void> {
  const { requestId, orderId, customerId: memberId } = input;
  await refundMoney(input, plan.amountFen, record);
  if (input.kind === 'RETURN_AND_REFUND') {
    await mustComplete.restockReturn.executeWithOptions({ summary: 'returned goods back on hand' }, [
      { idempotencyKey: `${requestId}:restock`, orderId, lines: plan.lines.map((line) => ({ skuId: line.skuId, quantity: line.quantity })) },
    ]);
  }
  if (plan.releaseReservationKey) {
    await mustComplete.releaseStock.executeWithOptions({ summary: 'release the reserved stock (nothing left to ship)' }, [
      { idempotencyKey: plan.releaseReservationKey },
    ]);
  }
  // Campaign pool first, admission last (admission taken ≥ pool reserved + sold), as the order's saga does.
  if (plan.releaseCampaignStockKey) {
    await mustComplete.releaseCampaignStock.executeWithOptions({ summary: 'release the campaign stock (nothing left to ship)' }, [
      { idempotencyKey: plan.releaseCampaignStockKey },
    ]);
  }
  if (plan.releaseAdmission) {
    await mustComplete.releaseAdmission.executeWithOptions({ summary: "unit back to the campaign and the buyer's limit" }, [plan.releaseAdmission]);
  }
  await bestEffort(record, 'take back points awarded for the refunded amount', () =>
    plan.pointsReversalFen > 0
      ? mustComplete.reversePointsForRefund.executeWithOptions({ summary: 'take back points for the refunded amount' }, [
          { idempotencyKey: `${requestId}:reverse-points`, memberId, orderId, refundedFen: plan.pointsReversalFen },
        ])
      : Promise.resolve(),
  );
  if (plan.usedPointsToReturn > 0) {
    await bestEffort(record, 'return used points', () =>
      mustComplete.returnUsedPoints.executeWithOptions({ summary: 'return redeemed points pro rata' }, [
        { idempotencyKey: `${requestId}:return-points`, memberId, orderId, points: plan.usedPointsToReturn },
      ]),
    );
  }
  if (plan.returnCouponId) {
    // Order-level key: the coupon of an order comes back at most once, whichever path returns it.
    await bestEffort(record, 'return the coupon', () =>
      mustComplete.returnCoupon.executeWithOptions({ summary: 'return the coupon (whole order refunded)' }, [
        { idempotencyKey: `${orderId}:return-coupon`, couponId: plan.returnCouponId!, orderId },
      ]),
    );
  }
}

/**
 * Money back through the provider with the key `<requestId>:refund`: a failed call is retried by
 * Temporal with the same key (the provider and the ledger see one refund). A provider's explicit
 * decline moved nothing: the declined part is asked again later under a new key.
 */
async function refundMoney(input: RefundRequestInput, amountFen: number, record: Record): Promise<void> {
  let remaining = amountFen;
  for (let attempt = 1; remaining > 0; attempt += 1) {
    const idempotencyKey = attempt === 1 ? `${input.requestId}:refund` : `${input.requestId}:refund:retry-${attempt}`;
    try {
      await mustComplete.refundPayment.executeWithOptions({ summary: `refund ${remaining} fen through the provider` }, [
        { idempotencyKey, orderId: input.orderId, amountFen: remaining, reason: `after-sales ${input.requestId}: ${input.reason}`.slice(0, 500) },
      ]);
      return;
    } catch (error) {
      const cause = error instanceof ActivityFailure ? error.cause : undefined;
      if (!(cause instanceof ApplicationFailure) || cause.type !== 'REFUND_DECLINED') throw error;
      const details = (cause.details?.[0] ?? {}) as { declinedFen?: number };
      remaining = details.declinedFen ?? remaining;
      record('provider declined the refund; retrying later', { attempt, declinedFen: remaining });
      await sleep(Math.min(3_600_000, 60_000 * 2 ** (attempt - 1)), { summary: 'wait before asking the provider again' });
    }
  }
}

/** A side effect refused for a business reason (coupon expired meanwhile...) is noted, not fatal. */
async function bestEffort(record: Record, what: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : undefined;
    if (!(cause instanceof ApplicationFailure) || !cause.nonRetryable) throw error;
    record(`could not ${what}`, { code: cause.type, message: cause.message });
  }
}

