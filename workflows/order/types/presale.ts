import { ApplicationFailure } from '@temporalio/workflow';
import { OrderContext } from '../context';
import type { OrderTimeouts, OrderView } from '../definitions';
import { registerOrderHandlers } from '../handlers';
import { PresaleFinalPayment } from '../presale-final';
import type { PresaleOrderInput } from '../presale-definitions';
import { OrderRefunds } from '../refunds';
import { awaitPayment, awaitShipment, cancelForReason, deliverAndComplete, place, runOrder, takePayment } from '../spine';
import { openPayment } from '../steps/payment';
import { priceFreight } from '../steps/shipping';
import { reserveStock } from '../steps/stock';

/**
 * A presale order (预售, domain-rules.md):
 *
 *   place the deposit (reserve normal stock, deposit intent)          → REJECTED on a refusal
 *   → AWAITING_PAYMENT → deposit paid in the deposit window, or timeout / cancel → CANCELLED
 *   → DEPOSIT_PAID: durable sleep until finalStart (a refundable deposit may be cancelled meanwhile)
 *   → AWAITING_FINAL_PAYMENT: reminder; the buyer opens the final payment (price − deposit value
 *     (定金膨胀) − coupon) until finalEnd; missed: stock released, deposit forfeited, or refunded when
 *     the campaign says depositRefundable                            → CANCELLED
 *   → PAID → shipment, delivery, after-sales window, completion as the standard order.
 * Before the final payment only a refundable deposit can be cancelled or refunded (policy.ts).
 */
export async function presaleOrderWorkflow(input: PresaleOrderInput, timeouts: OrderTimeouts): Promise<OrderView> {
  const terms = input.presale;
  // The deposit must be paid within the payment timeout and within the deposit window.
  const depositMs = Math.max(1, Math.min(timeouts.paymentMs, Date.parse(terms.depositEnd) - Date.now()));
  const order = new OrderContext(input, 'PRESALE', { ...timeouts, paymentMs: depositMs });
  registerOrderHandlers(order);
  const refunds = new OrderRefunds(order);
  const final = new PresaleFinalPayment(order, terms);
  showTerms(order, input);
  const endBeforeFinal = () => {
    if (terms.depositRefundable && order.view.totals.paidFen > 0) order.view.presale!.depositOutcome = 'REFUNDED';
    return cancelForReason(order);
  };

  return runOrder(order, async () => {
    if (!(await place(order, () => holdDeposit(order, input)))) return;
    if ((await awaitPayment(order, 'deposit', depositMs, 'PAYMENT_RECEIVED')) !== 'paid') return cancelForReason(order);
    await takePayment(order, order.gate('deposit'), 'DEPOSIT_PAID');
    order.view.deadlines.paymentDueAt = terms.finalStart;
    if (!(await final.sleepUntilFinalWindow())) return endBeforeFinal();
    await final.remind();
    const outcome = await final.awaitFinalPayment();
    if (outcome === 'missed') return final.missed();
    if (outcome === 'cancelled') return endBeforeFinal();
    await final.take();
    if (!(await awaitShipment(order))) return cancelForReason(order);
    await deliverAndComplete(order, () => refunds.closeWindow());
  });
}

function showTerms(order: OrderContext, input: PresaleOrderInput): void {
  const terms = input.presale;
  const quantity = input.lines[0].quantity;
  const finalBeforeCouponFen = (terms.presalePriceFen - terms.depositValueFen) * quantity;
  order.view.presale = {
    campaignId: terms.campaignId,
    depositFen: terms.depositFen * quantity,
    depositValueFen: terms.depositValueFen * quantity,
    depositRefundable: terms.depositRefundable,
    finalStart: terms.finalStart,
    finalEnd: terms.finalEnd,
    finalBeforeCouponFen,
    finalPayment: { status: 'NONE', amountFen: finalBeforeCouponFen, refunds: [] },
  };
  order.view.couponId = undefined; // coupons apply to the final payment only
  order.typeFacts.depositRefundable = terms.depositRefundable;
  // Until the final payment, refunds may give back only the deposit (the whole of it).
  order.typeFacts.depositOnlyFen = terms.depositFen * quantity;
}

/** Placement: presale price with deposit inflation, normal stock reserved, the deposit's intent. */
async function holdDeposit(order: OrderContext, input: PresaleOrderInput): Promise<void> {
  const terms = input.presale;
  if (Date.now() > Date.parse(terms.depositEnd) || Date.now() < Date.parse(terms.depositStart)) {
    throw ApplicationFailure.create({ type: 'DEPOSIT_WINDOW_CLOSED', message: `deposits are taken from ${terms.depositStart} to ${terms.depositEnd}`, nonRetryable: true });
  }
  // Expected before freight is priced (saga.ts, `expect`).
  order.saga.expect(reserveStock, { lines: input.lines });
  const quantity = input.lines[0].quantity;
  const listFen = terms.presalePriceFen * quantity;
  const inflationFen = (terms.depositValueFen - terms.depositFen) * quantity;
  const payableFen = listFen - inflationFen;
  const line = { lineId: 'L1', skuId: terms.skuId, quantity, unitPriceFen: terms.presalePriceFen, listFen };
  order.state.setPrices([{ ...line, promotionDiscountFen: inflationFen, couponDiscountFen: 0, pointsDiscountFen: 0, payableFen, refundedFen: 0 }], {
    listFen,
    promotionDiscountFen: inflationFen,
    couponDiscountFen: 0,
    pointsDiscountFen: 0,
    payableFen,
    pointsUsed: 0,
  });
  // Freight is paid with the final payment (presale-final.ts adds totals.freightFen to it).
  const freightFen = await priceFreight(order, payableFen);
  order.record('priced', { presalePriceFen: listFen, depositFen: terms.depositFen * quantity, depositInflationFen: inflationFen, ...(freightFen > 0 ? { freightFen } : {}) });
  await order.saga.run(reserveStock, { lines: input.lines });
  await order.saga.run(openPayment, { gate: 'deposit', amountFen: terms.depositFen * quantity });
}
