import type { OrderView, TimelineEntry } from '../../workflows/order/definitions';
import { domainEvent, type NewEvent } from './outbox';

/**
 * The domain events an order's state records. The order workflow's facts (placed, paid, cancelled,
 * shipped...) have no module transaction of their own: the workflow decides them and records each
 * as a timeline entry (with the workflow's time), and the projection activity writes the view to
 * `orders.orders`. The events are written in that same transaction (modules/orders/projection.ts),
 * derived from the timeline, so they exist exactly when the recorded fact does, with the entry's
 * time as occurredAt. The timeline only grows, so every projection carries every earlier fact: a
 * projection skipped as stale, retried, or replayed writes nothing new and loses nothing.
 *
 * Parcels: an order paid since parcels exist has `view.parcels` (one per warehouse, `<orderId>-p<n>`),
 * each shipped ('parcel shipped') and delivered (a carrier's 'parcel delivered', or the order's
 * 'delivered' for every parcel still on its way: buyer confirmation, auto-confirm). An older order
 * shipped whole is one parcel, `<orderId>:1`.
 */
export function orderEvents(view: OrderView): NewEvent[] {
  const events: NewEvent[] = [];
  const base = { orderId: view.orderId, customerId: view.customerId };
  const parcelId = `${view.orderId}:1`;
  const shipped = (id: string, at: string, carrier: unknown, trackingNumber: unknown) =>
    add({ ...base, eventId: `${id}:shipped`, type: 'parcel.shipped', occurredAt: at, data: { parcelId: id, carrier: String(carrier ?? ''), trackingNumber: String(trackingNumber ?? '') } });
  const delivered = (id: string, at: string, by: unknown) =>
    add({ ...base, eventId: `${id}:delivered`, type: 'parcel.delivered', occurredAt: at, data: { parcelId: id, confirmedBy: String(by ?? 'auto-confirm') } });
  const seen = new Set<string>();
  const add = (event: NewEvent) => {
    if (seen.has(event.eventId)) return; // the first entry of a fact wins (e.g. the first 'awaiting payment')
    seen.add(event.eventId);
    events.push(domainEvent(event));
  };
  for (const entry of view.timeline ?? []) {
    const at = entry.at;
    const detail = entry.detail ?? {};
    switch (entry.event) {
      case 'awaiting payment':
        add({
          ...base,
          eventId: `${view.orderId}:placed`,
          type: 'order.placed',
          occurredAt: at,
          data: {
            orderType: view.type,
            currency: view.currency,
            payableFen: view.totals?.payableFen ?? 0,
            lines: (view.lines ?? []).map((line) => ({ skuId: line.skuId, quantity: line.quantity })),
          },
        });
        break;
      case 'rejected':
        add({ ...base, eventId: `${view.orderId}:rejected`, type: 'order.rejected', occurredAt: at, data: { code: String(view.rejection?.code ?? detail.code ?? 'REJECTED') } });
        break;
      case 'paid':
        // A presale's deposit is recorded as 'paid' too, in phase DEPOSIT_PAID: the order is paid once the final payment is.
        if (entry.phase === 'PAID') add({ ...base, eventId: `${view.orderId}:paid`, type: 'order.paid', occurredAt: at, data: { paidFen: fenOf(detail.paidFen ?? detail.amountFen, view.totals?.paidFen ?? 0) } });
        break;
      case 'cancelled':
        add({ ...base, eventId: `${view.orderId}:cancelled`, type: 'order.cancelled', occurredAt: at, data: { by: String(detail.by ?? 'system'), refundedFen: view.totals?.refundedFen ?? 0 } });
        break;
      case 'shipped':
        shipped(parcelId, at, detail.carrier ?? view.shipment?.carrier, detail.trackingNumber ?? view.shipment?.trackingNumber);
        break;
      case 'parcel shipped':
        if (typeof detail.parcelId === 'string') shipped(detail.parcelId, at, detail.carrier, detail.trackingNumber);
        break;
      case 'parcel delivered':
        if (typeof detail.parcelId === 'string') delivered(detail.parcelId, at, 'carrier');
        break;
      case 'delivered':
        if (!view.parcels?.length) delivered(parcelId, at, detail.by);
        // The rest of the parcels arrive with the order (confirmed by the buyer, or auto-confirmed).
        for (const parcel of view.parcels ?? []) if (parcel.status === 'DELIVERED') delivered(parcel.parcelId, at, parcel.deliveredBy ?? detail.by);
        break;
      case 'completed':
        add({ ...base, eventId: `${view.orderId}:completed`, type: 'order.completed', occurredAt: at, data: { revenueFen: fenOf(detail.revenueFen, 0) } });
        break;
      case 'final payment reminder':
        add({
          ...base,
          eventId: `${view.orderId}:final-payment-due`,
          type: 'presale.final_payment_due',
          occurredAt: at,
          data: { finalBeforeCouponFen: fenOf(detail.finalBeforeCouponFen, view.presale?.finalBeforeCouponFen ?? 0), finalEnd: String(detail.finalEnd ?? view.presale?.finalEnd ?? '') },
        });
        break;
      case 'refund requested':
        if (typeof detail.requestId === 'string') {
          add({ ...base, eventId: `${detail.requestId}:requested`, type: 'refund.requested', occurredAt: at, data: { requestId: detail.requestId, kind: String(detail.kind ?? ''), amountFen: fenOf(detail.amountFen, 0) } });
        }
        break;
      case 'refund paid':
        if (typeof detail.requestId === 'string') {
          add({ ...base, eventId: `${detail.requestId}:paid`, type: 'refund.paid', occurredAt: at, data: { requestId: detail.requestId, amountFen: fenOf(detail.amountFen, 0) } });
        }
        break;
      case 'group succeeded':
      case 'group failed':
        if (view.group) add(groupEvent(view, entry, entry.event === 'group succeeded'));
        break;
    }
  }
  return events;
}

function groupEvent(view: OrderView, entry: TimelineEntry, succeeded: boolean): NewEvent {
  const group = view.group!;
  return {
    orderId: view.orderId,
    customerId: view.customerId,
    eventId: `${view.orderId}:${succeeded ? 'group-succeeded' : 'group-failed'}`,
    type: succeeded ? 'group.succeeded' : 'group.failed',
    occurredAt: entry.at,
    data: { groupId: group.groupId, campaignId: group.campaignId, virtual: entry.detail?.virtual === true },
  };
}

function fenOf(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : fallback;
}
