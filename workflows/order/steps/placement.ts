import type { OrderContext } from '../context';
import { lockCoupon } from './coupon';
import { openPayment } from './payment';
import { holdPoints } from './points';
import { priceFreight } from './shipping';
import { reserveStock } from './stock';

/** The unit price a line is priced at: the list price, or a campaign's (group price). */
export type UnitPrice = (skuId: string, listPriceFen: number) => number;

/**
 * Standard placement: list prices, the quote (promotions, coupon, points), then the holds (stock,
 * coupon, points) and the payment intent, each undo on the saga before its step runs.
 */
export async function priceAndHold(order: OrderContext, unitPriceFor: UnitPrice = (_skuId, listPriceFen) => listPriceFen): Promise<void> {
  const { input } = order;
  // The holds below, expected before the first step (saga.ts, `expect`): in their order.
  order.saga.expect(reserveStock, { lines: input.lines });
  if (input.couponId) order.saga.expect(lockCoupon, { couponId: input.couponId });
  if ((input.pointsToRedeem ?? 0) > 0) order.saga.expect(holdPoints, { points: input.pointsToRedeem ?? 0 });
  const skus = await order.placing.getSkusForOrder.executeWithOptions({ summary: 'look up list prices' }, [{ skuIds: input.lines.map((line) => line.skuId) }]);
  const priceOf = new Map(skus.map((sku) => [sku.id, unitPriceFor(sku.id, sku.listPriceFen)]));
  const quote = await order.placing.quoteOrder.executeWithOptions({ summary: 'price: promotions, coupon, points' }, [
    {
      memberId: input.customerId,
      lines: input.lines.map((line, index) => ({ lineId: `L${index + 1}`, skuId: line.skuId, quantity: line.quantity, unitPriceFen: priceOf.get(line.skuId)! })),
      couponId: input.couponId,
      pointsToRedeem: input.pointsToRedeem,
    },
  ]);
  order.state.setPrices(
    quote.lines.map((line) => ({ ...line, refundedFen: 0 })),
    quote.totals,
  );
  const { listFen, promotionDiscountFen, couponDiscountFen } = quote.totals;
  const freightFen = await priceFreight(order, listFen - promotionDiscountFen - couponDiscountFen);
  const payableFen = quote.totals.payableFen + freightFen;
  order.record('priced', freightFen > 0 ? { payableFen, freightFen } : { payableFen });

  await order.saga.run(reserveStock, { lines: input.lines });
  if (input.couponId) await order.saga.run(lockCoupon, { couponId: input.couponId });
  if (quote.totals.pointsUsed > 0) await order.saga.run(holdPoints, { points: quote.totals.pointsUsed });
  if (payableFen > 0) await order.saga.run(openPayment, { gate: 'payment', amountFen: payableFen });
}
