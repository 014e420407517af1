import { OrderContext } from '../context';
import type { OrderTimeouts, OrderView, PlaceOrderInput } from '../definitions';
import { registerOrderHandlers } from '../handlers';
import { OrderRefunds } from '../refunds';
import { awaitPayment, awaitShipment, cancelForReason, deliverAndComplete, place, runOrder, takePayment } from '../spine';
import { priceAndHold } from '../steps/placement';

/**
 * A standard order, from placement to completion (domain-rules.md):
 *
 *   place (price, reserve stock, lock coupon, hold points, payment intent)  → REJECTED on a refusal
 *   → AWAITING_PAYMENT → payment, or timeout / buyer cancel                 → CANCELLED
 *   → PAYMENT_RECEIVED → captured → PAID → shipment, or cancel / shipment failure (refund) → CANCELLED
 *   → SHIPPED → delivery confirmed or auto-confirmed → DELIVERED
 *   → after-sales window → COMPLETED (points available, revenue recognised), or REFUNDED
 */
export async function standardOrderWorkflow(input: PlaceOrderInput, timeouts: OrderTimeouts): Promise<OrderView> {
  const order = new OrderContext(input, 'STANDARD', timeouts);
  registerOrderHandlers(order);
  const refunds = new OrderRefunds(order);

  return runOrder(order, async () => {
    if (!(await place(order, () => priceAndHold(order)))) return;
    if ((await awaitPayment(order, 'payment', timeouts.paymentMs, 'PAYMENT_RECEIVED')) !== 'paid') return cancelForReason(order);
    await takePayment(order, order.gate('payment'), 'PAID', 'with-the-parcels');
    if (!(await awaitShipment(order))) return cancelForReason(order);
    await deliverAndComplete(order, () => refunds.closeWindow());
  });
}
