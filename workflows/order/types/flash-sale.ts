import { OrderContext } from '../context';
import type { OrderTimeouts, OrderView, PlaceOrderInput } from '../definitions';
import { registerOrderHandlers } from '../handlers';
import { OrderRefunds } from '../refunds';
import { awaitPayment, awaitShipment, cancelForReason, deliverAndComplete, place, runOrder, takePayment } from '../spine';
import { confirmAdmission } from '../steps/campaign-holds';
import { openPayment } from '../steps/payment';
import { priceFreight } from '../steps/shipping';
import { reserveCampaignStock } from '../steps/stock';

/** A flash-sale order starts from an admission (modules/flash-sale): the unit is already the buyer's. */
export interface FlashSaleOrderInput extends PlaceOrderInput {
  campaignId: string;
  /** Also the key of the admission's compensation (releaseAdmission). */
  admissionId: string;
}

/**
 * A flash-sale order (秒杀, domain-rules.md). The API admitted the buyer before starting this
 * workflow (campaign unit and per-user limit taken atomically in PostgreSQL).
 *
 *   place: check the admission, flash price, reserve the campaign pool, payment intent → REJECTED
 *   → AWAITING_PAYMENT → paid, or timeout (5 min) / cancel → CANCELLED: pool and admission released,
 *     so the unit goes back on sale and the buyer's limit is restored
 *   → PAID → shipment (campaign units sold) → delivery → completion, as standard.
 * No coupon, points or promotion on top of the flash price. Before shipment refunds are full only.
 */
export async function flashSaleOrderWorkflow(input: FlashSaleOrderInput, timeouts: OrderTimeouts): Promise<OrderView> {
  const order = new OrderContext(input, 'FLASH_SALE', timeouts);
  registerOrderHandlers(order);
  const refunds = new OrderRefunds(order);

  return runOrder(order, async () => {
    if (!(await place(order, () => holdFlashUnit(order, input)))) return;
    if ((await awaitPayment(order, 'payment', timeouts.paymentMs, 'PAYMENT_RECEIVED')) !== 'paid') return cancelForReason(order);
    await takePayment(order, order.gate('payment'), 'PAID', 'with-the-parcels');
    if (!(await awaitShipment(order))) return cancelForReason(order);
    await deliverAndComplete(order, () => refunds.closeWindow());
  });
}

async function holdFlashUnit(order: OrderContext, input: FlashSaleOrderInput): Promise<void> {
  const admission = await order.saga.run(confirmAdmission, { admissionId: input.admissionId, reason: () => releaseReason(order) });
  // Expected before freight is priced (saga.ts, `expect`).
  order.saga.expect(reserveCampaignStock, { campaignId: input.campaignId, skuId: admission.skuId, quantity: admission.quantity });
  const amountFen = admission.unitPriceFen * admission.quantity;
  const line = { lineId: 'L1', skuId: admission.skuId, quantity: admission.quantity, unitPriceFen: admission.unitPriceFen, listFen: amountFen };
  order.state.setPrices([{ ...line, promotionDiscountFen: 0, couponDiscountFen: 0, pointsDiscountFen: 0, payableFen: amountFen, refundedFen: 0 }], {
    listFen: amountFen,
    promotionDiscountFen: 0,
    couponDiscountFen: 0,
    pointsDiscountFen: 0,
    payableFen: amountFen,
    pointsUsed: 0,
  });
  const freightFen = await priceFreight(order, amountFen);
  order.record('priced', { payableFen: amountFen + freightFen, flashPriceFen: admission.unitPriceFen, campaignId: input.campaignId, ...(freightFen > 0 ? { freightFen } : {}) });
  await order.saga.run(reserveCampaignStock, { campaignId: input.campaignId, skuId: admission.skuId, quantity: admission.quantity });
  await order.saga.run(openPayment, { gate: 'payment', amountFen: amountFen + freightFen });
}

/** Why the unit goes back, for the admission record (read when the undo runs). */
function releaseReason(order: OrderContext): string {
  if (order.phase === 'PLACING') return 'placement failed';
  if (order.shipmentFailure) return 'shipment failed';
  if (order.cancellation) return `cancelled by ${order.cancellation.by}`;
  return 'payment timeout';
}
