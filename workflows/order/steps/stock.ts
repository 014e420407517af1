import { mustComplete } from '../../shared/activities';
import type { Step } from '../../saga';
import type { OrderContext } from '../context';
import type { OrderLineInput } from '../definitions';

/** Normal warehouse stock, all-or-nothing across warehouses; released whole by the same key. */
export const reserveStock: Step<OrderContext, { lines: OrderLineInput[] }, void> = {
  thing: 'stock',
  summary: 'reserve stock',
  undoSummary: 'release reserved stock',
  async run(order, { lines }) {
    await order.placing.reserveStock.executeWithOptions({ summary: 'reserve stock' }, [
      { idempotencyKey: order.key('reserve-stock'), orderId: order.orderId, lines },
    ]);
  },
  async undo(order) {
    await mustComplete.releaseStock.executeWithOptions({ summary: 'compensate: release stock' }, [{ idempotencyKey: order.key('reserve-stock') }]);
  },
};

/** A flash sale's campaign pool instead of normal stock. */
export const reserveCampaignStock: Step<OrderContext, { campaignId: string; skuId: string; quantity: number }, void> = {
  thing: 'stock',
  summary: 'reserve campaign stock',
  undoSummary: 'release campaign stock',
  async run(order, { campaignId, skuId, quantity }) {
    order.holds.campaignStock = true;
    await order.placing.reserveCampaignStock.executeWithOptions({ summary: 'reserve campaign stock' }, [
      { idempotencyKey: order.key('reserve-campaign-stock'), campaignId, skuId, quantity, orderId: order.orderId },
    ]);
  },
  async undo(order) {
    await mustComplete.releaseCampaignStock.executeWithOptions({ summary: 'compensate: release campaign stock' }, [
      { idempotencyKey: order.key('reserve-campaign-stock') },
    ]);
  },
};

/** At shipment: the reserved units are deducted for good (the pool's for a flash sale). */
export async function commitShippedStock(order: OrderContext): Promise<void> {
  if (order.holds.campaignStock) {
    await mustComplete.commitCampaignStock.executeWithOptions({ summary: 'deduct the shipped campaign units for good' }, [
      { idempotencyKey: order.key('commit-campaign-stock'), reservationKey: order.key('reserve-campaign-stock') },
    ]);
    return;
  }
  await mustComplete.commitStock.executeWithOptions({ summary: 'deduct shipped stock for good' }, [
    { idempotencyKey: order.key('commit-stock'), reservationKey: order.key('reserve-stock') },
  ]);
}

/** Right after shipment: units refunded before it (shipped with the reservation) go back on hand. */
export async function restockRefundedBeforeShipment(order: OrderContext): Promise<void> {
  const lines = order.book.restockAfterShipment;
  if (lines.length === 0) return;
  await mustComplete.restockReturn.executeWithOptions({ summary: 'restock units refunded before shipment' }, [
    { idempotencyKey: order.key('restock-refunded-before-shipment'), orderId: order.orderId, lines: [...lines] },
  ]);
}
