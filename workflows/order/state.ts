import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { OrderPhase as OrderPhaseKey, OrderStatus as OrderStatusKey, OrderTotal } from '../search-attributes';
import { now } from '../shared/time';
import type { OrderLineView, OrderPhase, OrderStatus, OrderType, OrderView, PlaceOrderInput, TimelineEntry } from './definitions';
import { nextPhase, statusOfPhase } from './phase';

/**
 * The order as the workflow holds it: what queries answer, what is projected to PostgreSQL, and what
 * ops see as search attributes and memo. Every change goes through here so the three agree; search
 * attributes and memo are written only when what they show changed.
 */
export class OrderState {
  readonly view: OrderView;
  private shown = { status: '', phase: '', payableFen: -1, refundedFen: -1 };

  /**
   * `localSteps` (issue 17): what the memo showed goes to the workflow's current details instead
   * (the UI's "Current Details", read by query: no history event per change); runs started before
   * keep writing the memo.
   * `showPlacedOnly` (fewer steps per order): no search attributes while the order is PLACING: the
   * API starts it with status and phase PLACING, and placement, which runs within one workflow task,
   * ends in a phase that shows its price (awaiting payment, rejected, or needs attention). Ops saw
   * the price of the placement in the same task before, never apart: one history event less.
   */
  constructor(
    input: PlaceOrderInput,
    type: OrderType,
    private readonly detailsInsteadOfMemo = false,
    private readonly showPlacedOnly = false,
  ) {
    this.view = {
      orderId: input.orderId,
      customerId: input.customerId,
      type,
      status: 'PLACING',
      phase: 'PLACING',
      currency: input.currency,
      ...(input.channel ? { channel: input.channel } : {}),
      couponId: input.couponId,
      lines: [],
      totals: { listFen: 0, promotionDiscountFen: 0, couponDiscountFen: 0, pointsDiscountFen: 0, payableFen: 0, pointsUsed: 0, paidFen: 0, refundedFen: 0 },
      payment: { status: 'NONE', amountFen: 0, refunds: [] },
      deadlines: {},
      timeline: [{ at: now(), event: 'placed', status: 'PLACING', detail: { lines: input.lines } }],
      version: 1,
    };
  }

  get status(): OrderStatus {
    return this.view.status;
  }

  get phase(): OrderPhase {
    return this.view.phase;
  }

  /** Records an event; with a phase, moves the order (checked against phase.ts) and its status. */
  record(event: string, detail?: Record<string, unknown>, phase?: OrderPhase, status?: OrderStatus): void {
    const before = this.view.status;
    if (phase) {
      this.view.phase = phase === this.view.phase ? phase : nextPhase(this.view.phase, phase);
      const shownStatus = status ?? statusOfPhase[phase];
      if (shownStatus) this.view.status = shownStatus;
    }
    // The entry names the status only when it changed (the buyer's history), and the phase when one was entered.
    const statusChanged = this.view.status !== before;
    const entry: TimelineEntry = {
      at: now(),
      event,
      ...(statusChanged ? { status: this.view.status } : {}),
      ...(phase ? { phase } : {}),
      ...(detail ? { detail } : {}),
    };
    this.view.timeline.push(entry);
    this.view.version += 1;
    this.tellOps();
  }

  /** Enters or leaves NEEDS_ATTENTION (allowed from and back to any live phase). */
  setAttentionPhase(phase: OrderPhase): void {
    this.view.phase = phase;
    this.view.version += 1;
    this.tellOps();
  }

  setPrices(lines: OrderLineView[], totals: Omit<OrderView['totals'], 'paidFen' | 'refundedFen'>): void {
    this.view.lines = lines;
    this.view.totals = { ...this.view.totals, ...totals };
  }

  /** Search attributes and memo, only when a value they show changed. */
  private tellOps(): void {
    const { status, phase, totals } = this.view;
    const shown = this.shown;
    const placing = this.showPlacedOnly && phase === 'PLACING';
    if (!placing && (shown.status !== status || shown.phase !== phase || shown.payableFen !== totals.payableFen)) {
      upsertSearchAttributes([
        { key: OrderStatusKey, value: status },
        { key: OrderPhaseKey, value: phase },
        { key: OrderTotal, value: totals.payableFen },
      ]);
    }
    if (shown.status !== status || shown.phase !== phase || shown.payableFen !== totals.payableFen || shown.refundedFen !== totals.refundedFen) {
      if (this.detailsInsteadOfMemo) setCurrentDetails(currentDetails(status, phase, totals.payableFen, totals.refundedFen));
      else upsertMemo({ status, phase, payableFen: totals.payableFen, refundedFen: totals.refundedFen });
    }
    this.shown = { status, phase, payableFen: totals.payableFen, refundedFen: totals.refundedFen };
  }

  /** A copy for activities and queries (the workflow keeps mutating its own). */
  snapshot(): OrderView {
    return JSON.parse(JSON.stringify(this.view)) as OrderView;
  }
}

/** The order in one line of Temporal markdown, for ops in the UI: status, phase and amounts (yuan, from fen). */
export function currentDetails(status: OrderStatus, phase: OrderPhase, payableFen: number, refundedFen: number): string {
  const yuan = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
  return `**${status}** · phase ${phase} · payable ¥${yuan(payableFen)} · refunded ¥${yuan(refundedFen)}`;
}
