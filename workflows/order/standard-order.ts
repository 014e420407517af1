import type { OrderTimeouts, OrderView, PlaceOrderInput } from './definitions';
import { OrderRun } from './order-run';

/**
 * A standard order, from placement to completion (domain-rules.md):
 *
 *   place (price, reserve stock, lock coupon, hold points, payment intent)  → REJECTED on a refusal
 *   → PENDING_PAYMENT → payment, or timeout / buyer cancel                  → CANCELLED
 *   → PAID → shipment, or buyer cancel / shipment failure (refund)          → CANCELLED
 *   → SHIPPED → delivery confirmed or auto-confirmed → DELIVERED
 *   → after-sales window → COMPLETED (points available, revenue recognised)
 *
 * Every step's undo is on the saga before the step runs; a cancel before shipment runs them in reverse.
 */
export async function standardOrderWorkflow(input: PlaceOrderInput, timeouts: OrderTimeouts): Promise<OrderView> {
  const run = new OrderRun(input, 'STANDARD', timeouts);

  if (!(await run.place())) return run.finish();
  if ((await run.awaitPayment()) !== 'paid') return run.cancelAndFinish();
  await run.takePayment();
  if (!(await run.awaitShipment())) return run.cancelAndFinish();
  await run.deliverAndComplete();
  return run.finish();
}
