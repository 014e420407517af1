import { mustComplete } from '../../shared/activities';
import type { Step } from '../../saga';
import { noteCouponReturned } from '../../after-sales/refund-book';
import type { OrderContext } from '../context';

/** Placement: the coupon is locked to the order (AVAILABLE → LOCKED); undo unlocks it. */
export const lockCoupon: Step<OrderContext, { couponId: string; key?: string }, void> = {
  thing: 'coupon',
  summary: 'lock coupon',
  undoSummary: 'unlock coupon',
  async run(order, { couponId, key = 'lock-coupon' }) {
    await order.placing.lockCoupon.executeWithOptions({ summary: 'lock coupon' }, [
      { idempotencyKey: order.key(key), couponId, memberId: order.input.customerId, orderId: order.orderId },
    ]);
  },
  async undo(order, { key = 'lock-coupon' }) {
    await mustComplete.unlockCoupon.executeWithOptions({ summary: 'compensate: unlock coupon' }, [{ idempotencyKey: order.key(key) }]);
  },
};

/** Payment: the coupon is used (LOCKED → USED); undo returns it unless a full refund already did. */
export const useCoupon: Step<OrderContext, { couponId: string }, void> = {
  thing: 'coupon',
  summary: 'mark coupon used',
  undoSummary: 'return the used coupon',
  async run(order, { couponId }) {
    await mustComplete.useCoupon.executeWithOptions({ summary: 'mark coupon used' }, [
      { idempotencyKey: order.key('use-coupon'), couponId, orderId: order.orderId },
    ]);
  },
  async undo(order, { couponId }) {
    if (order.book.couponReturned) return;
    // Order-level key: the coupon comes back at most once, whichever path (refund or cancel) returns it.
    await mustComplete.returnCoupon.executeWithOptions({ summary: 'compensate: return coupon' }, [
      { idempotencyKey: order.key('return-coupon'), couponId, orderId: order.orderId },
    ]);
    noteCouponReturned(order.book);
  },
};
