import { mustComplete } from '../../shared/activities';
import { mustDo, mustDoAll, type MustStep } from '../attention';
import type { OrderContext } from '../context';

/**
 * Pending points of the kept money become available and it is recognised as revenue; returns it.
 * With fewer steps both at once (member and finance, independent of each other), else one by one.
 */
export async function recognizeKept(order: OrderContext): Promise<number> {
  const { input } = order;
  const keptFen = order.view.totals.paidFen - order.view.totals.refundedFen;
  const steps: MustStep[] = [];
  if (keptFen > 0 || order.view.totals.paidFen === 0) {
    steps.push({
      step: 'pending points become available',
      work: () =>
        mustComplete.completeOrderPoints.executeWithOptions({ summary: 'pending points become available' }, [
          { idempotencyKey: order.key('complete-points'), memberId: input.customerId, orderId: input.orderId, completedSpendFen: Math.max(0, keptFen) },
        ]),
    });
  }
  if (keptFen > 0) {
    steps.push({
      step: 'recognise revenue',
      work: () =>
        mustComplete.recognizeRevenue.executeWithOptions({ summary: 'recognise revenue in the ledger' }, [
          { idempotencyKey: order.key('recognize-revenue'), orderId: input.orderId, currency: input.currency },
        ]),
    });
  }
  if (order.fewerSteps) await mustDoAll(order, steps);
  else for (const { step, work } of steps) await mustDo(order, step, work);
  return keptFen;
}
