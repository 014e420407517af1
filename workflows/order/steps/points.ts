import { mustComplete } from '../../shared/activities';
import type { Step } from '../../saga';
import { notePointsReturned, pointsLeftToReturn } from '../../after-sales/refund-book';
import type { OrderContext } from '../context';

/** Placement: redeemed points are held; undo releases the hold. */
export const holdPoints: Step<OrderContext, { points: number }, void> = {
  thing: 'points',
  summary: 'hold points',
  undoSummary: 'release held points',
  async run(order, { points }) {
    await order.placing.holdPoints.executeWithOptions({ summary: 'hold points' }, [
      { idempotencyKey: order.key('hold-points'), memberId: order.input.customerId, orderId: order.orderId, points },
    ]);
  },
  async undo(order) {
    await mustComplete.releaseHeldPoints.executeWithOptions({ summary: 'compensate: release held points' }, [{ idempotencyKey: order.key('hold-points') }]);
  },
};

/** Payment: the held points are spent; undo returns what refunds have not returned yet. */
export const spendPoints: Step<OrderContext, { points: number }, void> = {
  thing: 'points',
  summary: 'spend the held points',
  undoSummary: 'return the spent points',
  async run(order) {
    await mustComplete.commitHeldPoints.executeWithOptions({ summary: 'spend the held points' }, [
      { idempotencyKey: order.key('commit-points'), holdKey: order.key('hold-points') },
    ]);
  },
  async undo(order, { points }) {
    const left = pointsLeftToReturn(order.book, points);
    if (left === 0) return;
    await mustComplete.returnUsedPoints.executeWithOptions({ summary: 'compensate: return spent points' }, [
      { idempotencyKey: order.key('return-points'), memberId: order.input.customerId, orderId: order.orderId, points: left },
    ]);
    notePointsReturned(order.book, left);
  },
};

/** Payment: points for the money paid, pending until completion; undo revokes what is left of them. */
export const awardPoints: Step<OrderContext, { paidFen: number }, void> = {
  thing: 'award',
  summary: 'award pending points',
  undoSummary: 'revoke pending points',
  async run(order, { paidFen }) {
    await mustComplete.awardPendingPoints.executeWithOptions({ summary: 'award pending points' }, [
      { idempotencyKey: order.key('award-points'), memberId: order.input.customerId, orderId: order.orderId, paidFen },
    ]);
  },
  async undo(order) {
    await mustComplete.revokePendingPoints.executeWithOptions({ summary: 'compensate: revoke pending points' }, [{ idempotencyKey: order.key('award-points') }]);
  },
};
