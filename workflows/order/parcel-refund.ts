import { executeRefund } from '../after-sales/refund-effects';
import { noteCompensatedFen, planRefund, priceRequest, reserve } from '../after-sales/refund-book';
import { now } from '../shared/time';
import type { OrderContext } from './context';
import type { ParcelView } from './parcel-definitions';

/**
 * A parcel's shipment failed while other parcels go on: the buyer gets back exactly what they paid for
 * its units (the refund book prices them, so after-sales can never refund them again) plus its share
 * of the freight, under the parcel's own keys (`<parcelId>:shipment-failed:*`). Points awarded for
 * that money are taken back, redeemed points returned pro rata. Returns the money refunded.
 */
export async function refundFailedParcel(order: OrderContext, parcel: ParcelView, reason: string): Promise<number> {
  const { view, book } = order;
  const requestId = `${parcel.parcelId}:shipment-failed`;
  // Units of the parcel refunded before shipment were refunded already: what is left of each line.
  const wanted = parcel.items
    .map((item) => {
      const line = view.lines.find((candidate) => candidate.lineId === item.lineId)!;
      const held = book.lines.find((candidate) => candidate.lineId === item.lineId);
      const left = line.quantity - (held?.refundedQuantity ?? 0) - (held?.reservedQuantity ?? 0);
      return { lineId: item.lineId, quantity: Math.min(item.quantity, left), alreadyRefunded: item.quantity - Math.min(item.quantity, left), skuId: item.skuId };
    });
  // Those units were released with the parcel's stock: they must not be restocked after shipment too.
  for (const { skuId, alreadyRefunded } of wanted) forgetRestock(order, skuId, alreadyRefunded);
  const asked = wanted.filter((line) => line.quantity > 0).map(({ lineId, quantity }) => ({ lineId, quantity }));
  const lines = asked.length === 0 ? [] : priceRequest(book, {
    lines: view.lines,
    paidFen: view.totals.paidFen,
    refundableFenOf: (line) => order.refundableFenOf(line),
    partialAllowed: true,
  }, asked);
  reserve(book, lines);
  const linesFen = lines.reduce((sum, line) => sum + line.amountFen, 0);
  const plan = planRefund(book, {
    requestId,
    approvedFen: linesFen,
    reserved: lines,
    lines: view.lines,
    paidFen: view.totals.paidFen,
    pointsUsed: view.totals.pointsUsed,
    couponId: view.couponId,
    shipped: true, // the parcel's stock is released on its own (releaseParcelStock), not by the plan
    releaseOnFullRefund: {},
  });
  const freightFen = Math.min(parcel.freightFen, Math.max(0, view.totals.paidFen - view.totals.refundedFen - linesFen));
  noteCompensatedFen(book, freightFen);
  const amountFen = linesFen + freightFen;
  await executeRefund(
    {
      requestId,
      orderId: order.orderId,
      customerId: order.input.customerId,
      kind: 'REFUND_ONLY',
      lines,
      amountFen,
      reason: `parcel ${parcel.parcelId} not shipped: ${reason}`.slice(0, 400),
      requestedBy: 'warehouse',
      requestedAt: now(),
      order: {
        orderId: order.orderId,
        customerId: order.input.customerId,
        type: view.type,
        status: view.status,
        currency: view.currency,
        paidFen: view.totals.paidFen,
        refundedFen: view.totals.refundedFen,
        lineCount: view.lines.length,
      },
      timeouts: { decisionMs: 0, returnShipmentMs: 0 },
    },
    { ...plan, amountFen, pointsReversalFen: plan.pointsReversalFen + freightFen },
    (event, detail) => order.record(event, detail),
  );
  for (const line of lines) {
    const shown = view.lines.find((candidate) => candidate.lineId === line.lineId);
    if (shown) shown.refundedFen += line.amountFen;
  }
  view.totals.refundedFen += amountFen;
  if (amountFen > 0) view.payment.refunds.push({ refundKey: `${requestId}:refund`, amountFen, reason: `parcel ${parcel.parcelId} not shipped`, at: now() });
  return amountFen;
}

function forgetRestock(order: OrderContext, skuId: string, quantity: number): void {
  let left = quantity;
  for (const entry of order.book.restockAfterShipment) {
    if (left === 0) break;
    if (entry.skuId !== skuId) continue;
    const taken = Math.min(left, entry.quantity);
    entry.quantity -= taken;
    left -= taken;
  }
  const kept = order.book.restockAfterShipment.filter((entry) => entry.quantity > 0);
  order.book.restockAfterShipment.splice(0, order.book.restockAfterShipment.length, ...kept);
}
