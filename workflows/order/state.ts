import { upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { OrderStatus as OrderStatusKey, OrderTotal } from '../search-attributes';
import type { OrderLineView, OrderStatus, OrderType, OrderView, PlaceOrderInput, TimelineEntry } from './definitions';

/**
 * The order as the workflow holds it: what queries answer, what is projected to PostgreSQL, and
 * what ops see as search attributes and memo. Every change goes through here so the three agree.
 */
export class OrderState {
  readonly view: OrderView;

  constructor(input: PlaceOrderInput, type: OrderType) {
    this.view = {
      orderId: input.orderId,
      customerId: input.customerId,
      type,
      status: 'PLACING',
      currency: input.currency,
      couponId: input.couponId,
      lines: [],
      totals: {
        listFen: 0,
        promotionDiscountFen: 0,
        couponDiscountFen: 0,
        pointsDiscountFen: 0,
        payableFen: 0,
        pointsUsed: 0,
        paidFen: 0,
        refundedFen: 0,
      },
      payment: { status: 'NONE', amountFen: 0, refunds: [] },
      deadlines: {},
      timeline: [{ at: now(), event: 'placed', status: 'PLACING', detail: { lines: input.lines } }],
      version: 1,
    };
  }

  get status(): OrderStatus {
    return this.view.status;
  }

  /** Records an event; with a status, also moves the order and tells ops (search attributes, memo). */
  record(event: string, detail?: Record<string, unknown>, status?: OrderStatus): void {
    if (status) this.view.status = status;
    this.view.timeline.push({ at: now(), event, ...(status ? { status } : {}), ...(detail ? { detail } : {}) } as TimelineEntry);
    this.view.version += 1;
    if (status) {
      upsertSearchAttributes([
        { key: OrderStatusKey, value: status },
        { key: OrderTotal, value: this.view.totals.payableFen },
      ]);
      upsertMemo({ status, payableFen: this.view.totals.payableFen, refundedFen: this.view.totals.refundedFen });
    }
  }

  setPrices(lines: OrderLineView[], totals: Omit<OrderView['totals'], 'paidFen' | 'refundedFen'>): void {
    this.view.lines = lines;
    this.view.totals = { ...this.view.totals, ...totals };
  }

  /** A copy for activities and queries (the workflow keeps mutating its own). */
  snapshot(): OrderView {
    return JSON.parse(JSON.stringify(this.view)) as OrderView;
  }
}

/** Workflow time (deterministic): the time of the current workflow task. */
export function now(): string {
  return new Date().toISOString();
}

export function afterMs(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

