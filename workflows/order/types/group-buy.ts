import { GroupMembership } from '../../group/membership';
import type { GroupBuyOrderInput } from '../../group/definitions';
import { OrderContext } from '../context';
import type { OrderTimeouts, OrderView } from '../definitions';
import { registerOrderHandlers } from '../handlers';
import { OrderRefunds } from '../refunds';
import { awaitPayment, awaitShipment, cancelForReason, deliverAndComplete, place, runOrder, takePayment } from '../spine';
import { returnGroupLimit, takeGroupLimit } from '../steps/campaign-holds';
import { priceAndHold } from '../steps/placement';

/**
 * A member's order in a group-buy (拼团). The API took a seat in the group (joinGroup) first.
 *
 *   place: the buyer's per-user limit, then the standard placement at the group price → REJECTED (seat freed)
 *   → AWAITING_PAYMENT → paid, or member payment timeout (15 min) / cancel → CANCELLED (seat freed)
 *   → PAID: the group is told; nothing ships before its outcome
 *       FAILED (expired without enough paid members) → CANCELLED, refunded in full
 *       SUCCEEDED → shipment, delivery, completion as the standard order.
 * A paid member cannot cancel while the group is forming (policy.canCancel).
 */
export async function groupBuyOrderWorkflow(input: GroupBuyOrderInput, timeouts: OrderTimeouts): Promise<OrderView> {
  const order = new OrderContext(input, 'GROUP_BUY', timeouts);
  registerOrderHandlers(order);
  const refunds = new OrderRefunds(order);
  const group = new GroupMembership(order, input.group);
  const giveBackLimit = () => (order.holds.groupLimit ? returnGroupLimit(order) : Promise.resolve());

  return runOrder(order, async () => {
    if (!(await place(order, () => holdSeat(order, input)))) return group.leave('order rejected');
    if ((await awaitPayment(order, 'payment', timeouts.paymentMs, 'PAYMENT_RECEIVED')) !== 'paid') {
      await group.leave(order.cancellation ? order.cancellation.reason : 'payment timeout');
      return cancelForReason(order);
    }
    await takePayment(order, order.gate('payment'));
    await group.reportPaid();
    if (!(await group.awaitOutcome())) return cancelForReason(order, giveBackLimit);
    if (!(await awaitShipment(order))) return cancelForReason(order, giveBackLimit);
    await deliverAndComplete(order, () => refunds.closeWindow());
  });
}

/** The buyer's units of the per-user limit (LIMIT_REACHED rejects the order), then placement at the group price. */
async function holdSeat(order: OrderContext, input: GroupBuyOrderInput): Promise<void> {
  const { group } = input;
  if (group.perUserLimit !== undefined) {
    const quantity = input.lines.reduce((sum, line) => sum + line.quantity, 0);
    await order.saga.run(takeGroupLimit, { campaignId: group.campaignId, quantity, perUserLimit: group.perUserLimit });
  }
  await priceAndHold(order, { [group.skuId]: group.groupPriceFen });
}
