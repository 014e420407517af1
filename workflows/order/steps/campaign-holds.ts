import { mustComplete } from '../../shared/activities';
import type { Step } from '../../saga';
import type { OrderContext } from '../context';

interface Admission {
  skuId: string;
  quantity: number;
  unitPriceFen: number;
}

/**
 * Flash sale: the admission the API took (campaign unit and the buyer's limit) is checked. Its undo is
 * on the stack first, so it runs last: the campaign pool is always released before the admission
 * gives the unit back (admissions taken ≥ pool reserved + sold).
 */
export const confirmAdmission: Step<OrderContext, { admissionId: string; reason: () => string }, Admission> = {
  thing: 'admission',
  summary: 'check the flash-sale admission',
  undoSummary: 'return the unit to the flash sale and the buyer',
  async run(order, { admissionId }) {
    order.holds.admissionId = admissionId;
    return order.placing.confirmAdmission.executeWithOptions({ summary: 'check the flash-sale admission' }, [{ admissionId, orderId: order.orderId }]);
  },
  async undo(_order, { admissionId, reason }) {
    await mustComplete.releaseAdmission.executeWithOptions({ summary: "compensate: unit back to the campaign and the buyer's limit" }, [
      { idempotencyKey: admissionId, reason: reason() },
    ]);
  },
};

/** Group-buy: the order's units of the buyer's per-user limit across the campaign (the API took them first, same key). */
export const takeGroupLimit: Step<OrderContext, { campaignId: string; quantity: number; perUserLimit: number }, void> = {
  thing: 'group-limit',
  summary: 'take units of the per-user limit',
  undoSummary: 'return the units to the per-user limit',
  async run(order, { campaignId, quantity, perUserLimit }) {
    order.holds.groupLimit = true;
    await order.placing.takeGroupBuyLimit.executeWithOptions({ summary: 'take units of the per-user limit' }, [
      { idempotencyKey: order.key('group-limit'), campaignId, customerId: order.input.customerId, quantity, perUserLimit },
    ]);
  },
  async undo(order) {
    await returnGroupLimit(order);
  },
};

export async function returnGroupLimit(order: OrderContext): Promise<void> {
  await mustComplete.returnGroupBuyLimit.executeWithOptions({ summary: 'compensate: return units to the per-user limit' }, [
    { idempotencyKey: order.key('group-limit') },
  ]);
}
