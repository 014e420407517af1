import type { Activities } from '../../activities';

/**
 * Module task queues, so each module's activities can be scaled on their own (README "Scaling out").
 * An order workflow runs on the orders queue (TASK_QUEUE, e.g. `orders`); the activities of the
 * finance, inventory and member/marketing modules are scheduled on sibling queues named after it
 * (`orders-finance`, `orders-inventory`, `orders-member`); every other activity stays on the orders
 * queue. Every worker process registers every activity, so a queue's worker can serve any activity
 * sent to it; the queues only decide which processes do the work. Imported by workflow code and by
 * the workers: no runtime imports.
 */
export const ACTIVITY_GROUPS = ['finance', 'inventory', 'member'] as const;
export type ActivityGroup = (typeof ACTIVITY_GROUPS)[number];

const GROUP_OF: Partial<Record<keyof Activities, ActivityGroup>> = {
  createPaymentIntent: 'finance',
  cancelPaymentIntent: 'finance',
  recordPaymentSucceeded: 'finance',
  capturePayment: 'finance',
  settlePayment: 'finance',
  refundPayment: 'finance',
  refundLatePayment: 'finance',
  recognizeRevenue: 'finance',
  forfeitDeposit: 'finance',
  reserveStock: 'inventory',
  releaseStock: 'inventory',
  commitStock: 'inventory',
  restockReturn: 'inventory',
  reserveCampaignStock: 'inventory',
  releaseCampaignStock: 'inventory',
  commitCampaignStock: 'inventory',
  commitParcelStock: 'inventory',
  releaseParcelStock: 'inventory',
  getMember: 'member',
  holdPoints: 'member',
  releaseHeldPoints: 'member',
  commitHeldPoints: 'member',
  awardPendingPoints: 'member',
  revokePendingPoints: 'member',
  reversePointsForRefund: 'member',
  returnUsedPoints: 'member',
  completeOrderPoints: 'member',
  quoteOrder: 'member',
  lockCoupon: 'member',
  unlockCoupon: 'member',
  useCoupon: 'member',
  returnCoupon: 'member',
};

/** The module group whose queue serves this activity, or undefined for the orders queue. */
export function activityGroupOf(activityName: string): ActivityGroup | undefined {
  return Object.prototype.hasOwnProperty.call(GROUP_OF, activityName) ? GROUP_OF[activityName as keyof Activities] : undefined;
}

/** `orders` → `orders-finance`. */
export function moduleTaskQueue(ordersQueue: string, group: ActivityGroup): string {
  return `${ordersQueue}-${group}`;
}
