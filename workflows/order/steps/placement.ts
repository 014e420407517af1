import type { OrderContext } from '../context';
import type { OrderLineView } from '../definitions';
import { lockCoupon } from './coupon';
import { openPayment } from './payment';
import { holdPoints } from './points';
import { applyFreight, placementDestination, priceFreight } from './shipping';
import { reserveStock } from './stock';

/** Campaign unit prices that replace a SKU's list price (a group-buy's group price), by SKU id. */
export type CampaignPrices = Readonly<Record<string, number>>;

/**
 * Standard placement: list prices, the quote (promotions, coupon, points), the freight, then the
 * holds (stock, coupon, points) and the payment intent, each undo on the saga before its step runs.
 */
export async function priceAndHold(order: OrderContext, campaignPrices: CampaignPrices = {}): Promise<void> {
  const { input } = order;
  // The holds below, expected before the first step (saga.ts, `expect`): in their order.
  order.saga.expect(reserveStock, { lines: input.lines });
  if (input.couponId) order.saga.expect(lockCoupon, { couponId: input.couponId });
  if ((input.pointsToRedeem ?? 0) > 0) order.saga.expect(holdPoints, { points: input.pointsToRedeem ?? 0 });
  const { pointsUsed, payableFen } = await priceAndReserve(order, campaignPrices);
  if (input.couponId) await order.saga.run(lockCoupon, { couponId: input.couponId });
  if (pointsUsed > 0) await order.saga.run(holdPoints, { points: pointsUsed });
  if (payableFen > 0) await order.saga.run(openPayment, { gate: 'payment', amountFen: payableFen });
}

/** With no coupon and no points the stock is reserved while the order is priced, not after it. */
export const RESERVE_WHILE_PRICING_PATCH = 'reserve-while-pricing';

/**
 * Prices the order and reserves its stock. Without a coupon or points nothing in the quote can refuse
 * that the API has not checked before starting the run (SKUs, member, address and delivery), so the
 * two local activities run at once: the buyer waits for one round trip less. With either, the quote
 * may refuse (minimum spend, too many points), and the stock is reserved only after it accepts, so a
 * refused order never holds the last unit from another buyer, even briefly. A refusal of either undoes
 * the other (the reservation's undo is on the saga before it runs).
 */
async function priceAndReserve(order: OrderContext, campaignPrices: CampaignPrices): Promise<Priced> {
  const { input } = order;
  const quoteCanRefuse = Boolean(input.couponId) || (input.pointsToRedeem ?? 0) > 0;
  if (order.fewerSteps && !quoteCanRefuse && order.hasPatch(RESERVE_WHILE_PRICING_PATCH)) {
    const [priced, reserved] = await Promise.allSettled([priceInOneStep(order, campaignPrices), order.saga.run(reserveStock, { lines: input.lines })]);
    // Both have settled before the first refusal (pricing's first) is answered: the undo never races its step.
    if (priced.status === 'rejected') throw priced.reason;
    if (reserved.status === 'rejected') throw reserved.reason;
    return priced.value;
  }
  const priced = order.fewerSteps ? await priceInOneStep(order, campaignPrices) : await priceStepByStep(order, campaignPrices);
  await order.saga.run(reserveStock, { lines: input.lines });
  return priced;
}

interface Priced {
  pointsUsed: number;
  /** Goods and freight. */
  payableFen: number;
}

/** List prices, quote and freight in one local activity (patch fewer-steps-per-order). */
async function priceInOneStep(order: OrderContext, campaignPrices: CampaignPrices): Promise<Priced> {
  const { input } = order;
  const { quote, freight } = await order.placing.priceOrder.executeWithOptions({ summary: 'price: list prices, promotions, coupon, points, freight' }, [
    {
      memberId: input.customerId,
      lines: input.lines.map((line) => ({ skuId: line.skuId, quantity: line.quantity })),
      unitPriceFen: { ...campaignPrices },
      couponId: input.couponId,
      pointsToRedeem: input.pointsToRedeem,
      destination: placementDestination(order),
    },
  ]);
  setQuotedPrices(order, quote);
  const freightFen = freight ? applyFreight(order, freight) : 0;
  return recordPriced(order, quote.totals.payableFen, freightFen, quote.totals.pointsUsed);
}

/** The three lookups of runs started before fewer-steps-per-order, as their histories recorded them. */
async function priceStepByStep(order: OrderContext, campaignPrices: CampaignPrices): Promise<Priced> {
  const { input } = order;
  const skus = await order.placing.getSkusForOrder.executeWithOptions({ summary: 'look up list prices' }, [{ skuIds: input.lines.map((line) => line.skuId) }]);
  const priceOf = new Map(skus.map((sku) => [sku.id, campaignPrices[sku.id] ?? sku.listPriceFen]));
  const quote = await order.placing.quoteOrder.executeWithOptions({ summary: 'price: promotions, coupon, points' }, [
    {
      memberId: input.customerId,
      lines: input.lines.map((line, index) => ({ lineId: `L${index + 1}`, skuId: line.skuId, quantity: line.quantity, unitPriceFen: priceOf.get(line.skuId)! })),
      couponId: input.couponId,
      pointsToRedeem: input.pointsToRedeem,
    },
  ]);
  setQuotedPrices(order, quote);
  const { listFen, promotionDiscountFen, couponDiscountFen } = quote.totals;
  const freightFen = await priceFreight(order, listFen - promotionDiscountFen - couponDiscountFen);
  return recordPriced(order, quote.totals.payableFen, freightFen, quote.totals.pointsUsed);
}

/** The quote's lines and totals as the order's prices (nothing refunded yet). */
function setQuotedPrices(order: OrderContext, quote: { lines: Omit<OrderLineView, 'refundedFen'>[]; totals: Parameters<OrderContext['state']['setPrices']>[1] }): void {
  order.state.setPrices(
    quote.lines.map((line) => ({ ...line, refundedFen: 0 })),
    quote.totals,
  );
}

function recordPriced(order: OrderContext, goodsPayableFen: number, freightFen: number, pointsUsed: number): Priced {
  const payableFen = goodsPayableFen + freightFen;
  order.record('priced', freightFen > 0 ? { payableFen, freightFen } : { payableFen });
  return { pointsUsed, payableFen };
}
