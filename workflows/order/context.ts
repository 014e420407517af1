import { patched } from '@temporalio/workflow';
import { forward, localForward, localMustComplete, mustComplete } from '../shared/activities';
import { shielded } from '../shared/wait';
import { type OrderType } from '../shared/kinds';
import { Compensations } from '../saga';
import { newRefundBook, type PricingTerms, type RefundBook } from '../after-sales/refund-book';
import type { HeldStockRelease } from '../after-sales/definitions';
import type {
  AttentionAction,
  CancelRequest,
  OrderLineView,
  OrderPhase,
  OrderStatus,
  OrderTimeouts,
  OrderView,
  PlaceOrderInput,
  ShipmentDispatched,
} from './definitions';
import type { PaymentGate, GateName } from './payment-gate';
import { anyShipped } from './parcels';
import type { OrderFacts } from './policy';
import type { ShippingAddress } from './shipping-definitions';
import { OrderState } from './state';

/** The newest patch, a run's one marker: updates wait while a local activity runs (shared/updates.ts); implies every earlier patch. */
export const UPDATES_AFTER_LOCAL_STEPS_PATCH = 'order-updates-after-local-steps';
/**
 * The one marker before it: implies every earlier patch, those decided at the start and those asked
 * later (reserve-while-pricing, paid-steps-together, cancel-projects-its-refund). Each marker is a
 * history event and a TemporalChangeVersion search-attribute write per order (issue 17).
 */
export const ONE_MARKER_PATCH = 'order-patches-in-one-marker';
/** Placement priced in one local activity and its address with its projection, and more (`fewerSteps`). */
export const FEWER_STEPS_PATCH = 'fewer-steps-per-order';
/** Placement steps, projections and parcel records as local activities (implies the patches before it). */
export const LOCAL_STEPS_PATCH = 'placement-and-projection-local';
/**
 * A refused placement also undoes the holds it expected but did not reach in this run (by key; an
 * undo tolerates a hold never made): those a lost workflow task may have made. Asked only when a
 * local-steps placement is refused, so other runs record no marker.
 */
export const UNDO_EXPECTED_HOLDS_PATCH = 'placement-undoes-expected-holds';

/** What the order holds besides normal stock: decides what a full refund or a cancel gives back. */
export interface OrderHolds {
  /** Flash sale: the campaign pool's reservation instead of normal stock. */
  campaignStock?: boolean;
  /** Flash sale: the admission (campaign unit and the buyer's limit). */
  admissionId?: string;
  /** Group-buy: units of the buyer's per-user limit. */
  groupLimit?: boolean;
}

/** Facts only some order types have (group outcome, presale terms), read by the policy. */
export interface TypeFacts {
  groupOutcome?: OrderFacts['groupOutcome'];
  depositRefundable?: boolean;
  finalPaymentRequested?: boolean;
  /** Presale before the final payment: what refunds may give back is the deposit. */
  depositOnlyFen?: number;
}

export interface LatePayment {
  eventId: string;
  intentId: string;
  amountFen: number;
}

/**
 * Everything one order workflow knows: its state (phase, view), the undo stack, its payment gates,
 * the refund book and what its callers asked for. Steps, the spine, the policy and the after-sales
 * side all work on this one context; no decision reads a flag that is not listed in `facts()`.
 */
export class OrderContext {
  readonly state: OrderState;
  readonly saga: Compensations<OrderContext>;
  readonly book: RefundBook = newRefundBook();
  readonly gates: PaymentGate[] = [];
  readonly holds: OrderHolds = {};
  readonly typeFacts: TypeFacts = {};
  readonly seenPaymentEvents = new Set<string>();
  readonly latePayments: LatePayment[] = [];

  /** Updates act and answer only while no local activity runs (shared/updates.ts says why). */
  readonly answersAfterLocalSteps: boolean = patched(UPDATES_AFTER_LOCAL_STEPS_PATCH);
  /** Every patch below, and those asked later in the run (`hasPatch`), under one marker. */
  readonly onePatchMarker: boolean = this.answersAfterLocalSteps || patched(ONE_MARKER_PATCH);
  /**
   * Fewer steps per order (issue 17): placement priced in one local activity (`priceOrder` instead of
   * list prices, quote and freight), the placement's address written by the projection that shows
   * the order awaiting payment, a paid order's projection written once, with its parcels, and on
   * completion the points and the revenue at once (in parallel). Decided at the run's start; implies
   * every earlier patch (`localSteps` and those it implies, and `placement-undoes-expected-holds`).
   */
  readonly fewerSteps: boolean = this.onePatchMarker || patched(FEWER_STEPS_PATCH);
  /**
   * Placement steps, projections and parcel records as local activities (issue 17), decided at the
   * run's start: runs started before replay with activity tasks, as recorded. Implies every earlier
   * patch of the order workflow (parcels, shipping address and freight).
   */
  readonly localSteps: boolean = this.fewerSteps || patched(LOCAL_STEPS_PATCH);
  /**
   * Parcels (issue 13), decided once per run at its start (versioning rule): runs started before
   * parcels existed replay without the marker and keep one shipment for the whole order.
   */
  readonly parcelsEnabled: boolean = this.localSteps || patched('parcels-per-warehouse');
  /** A parcel's shipment or failure is being carried out (they take turns: stock, money, phase). */
  parcelBusy = false;

  placementDecided = false;
  /** Where the order ships now and its version (1 at placement, +1 per accepted change). */
  shippingAddress: ShippingAddress | undefined;
  addressVersion = 0;
  /** With fewer steps: the placement's address, written by the next projection (keepPlacementAddress). */
  unwrittenAddress: { version: number; address: ShippingAddress } | undefined;
  cancellation: CancelRequest | undefined;
  shipment: ShipmentDispatched | undefined;
  shipmentFailure: string | undefined;
  deliveredBy: string | undefined;
  afterSalesClosed = false;
  /** Ops' answer to NEEDS_ATTENTION, taken by attention.ts. */
  attentionRequest: ({ action: 'retry' | 'resolve' } & AttentionAction) | undefined;
  attentionCount = 0;
  /** Refunds of this order's compensation the provider declined: the next one goes under a new key. */
  declinedRefunds = 0;
  /** Open refund requests and whether every unit is refunded: kept by the after-sales side. */
  refundState = { open: 0, refundedInFull: false };

  constructor(
    readonly input: PlaceOrderInput,
    readonly type: OrderType,
    readonly timeouts: OrderTimeouts,
  ) {
    this.state = new OrderState(input, type, this.localSteps, this.fewerSteps);
    this.saga = new Compensations<OrderContext>(this);
    this.shippingAddress = input.shippingAddress;
  }

  get view(): OrderView {
    return this.state.view;
  }

  get phase(): OrderPhase {
    return this.state.phase;
  }

  get orderId(): string {
    return this.input.orderId;
  }

  /** A patch asked after the start: implied by the one marker, else its own (runs started before it). */
  hasPatch = (patchId: string): boolean => this.onePatchMarker || patched(patchId);

  /** Idempotency keys are `<orderId>:<step>`: stable across retries, replays and resets. */
  key = (step: string): string => `${this.input.orderId}:${step}`;

  record(event: string, detail?: Record<string, unknown>, phase?: OrderPhase, status?: OrderStatus): void {
    this.state.record(event, detail, phase, status);
  }

  /**
   * Writes the order's state to PostgreSQL for the storefront's reads and lists (and the outbox's
   * events, in the same transaction). A local activity: the view goes to PostgreSQL, not into the
   * history; the write is versioned, so a rerun after a lost workflow task writes nothing new.
   */
  project(): Promise<void> {
    const view = this.state.snapshot();
    if (!this.localSteps) return shielded(() => mustComplete.projectOrder.executeWithOptions({ summary: `project order (${view.phase})` }, [view]));
    // With its parcels' rows, when it has parcels, and the address waiting to be written: one local activity per change.
    const address = this.unwrittenAddress;
    this.unwrittenAddress = undefined;
    const options = { ...(view.parcels ? { withParcels: true } : {}), ...(address ? { withAddress: address } : {}) };
    return shielded(() => this.records.projectOrder.executeWithOptions({ summary: `project order (${view.phase})` }, [view, options]));
  }

  /**
   * Stubs of the forward steps: during placement (the buyer waits on its answer) local activities, so
   * pricing, holds and the payment intent run inside the workflow task that took the placement
   * update; afterwards on their module's queue.
   */
  get placing(): typeof forward {
    return this.localSteps && !this.placementDecided ? (localForward as unknown as typeof forward) : forward;
  }

  /** Must-complete stubs for the order's own records (projection, parcels): local activities. */
  get records(): typeof mustComplete {
    return this.localSteps ? (localMustComplete as unknown as typeof mustComplete) : mustComplete;
  }

  /** The must-complete stubs for a step of placement (local, as `placing`), else on the module's queue. */
  get placingMustComplete(): typeof mustComplete {
    return this.localSteps && !this.placementDecided ? (localMustComplete as unknown as typeof mustComplete) : mustComplete;
  }

  gate(name: GateName): PaymentGate | undefined {
    return this.gates.find((gate) => gate.name === name);
  }

  facts(): OrderFacts {
    const endsAt = this.view.deadlines.afterSalesEndsAt;
    return {
      type: this.type,
      phase: this.phase,
      cancelRequested: this.cancellation !== undefined,
      shipmentReported: this.shipment !== undefined || this.shipmentFailure !== undefined,
      deliveryConfirmed: this.deliveredBy !== undefined,
      openRefundRequests: this.refundState.open,
      refundedInFull: this.refundState.refundedInFull,
      paidFen: this.view.totals.paidFen,
      groupOutcome: this.typeFacts.groupOutcome,
      depositRefundable: this.typeFacts.depositRefundable,
      finalPaymentRequested: this.typeFacts.finalPaymentRequested,
      afterSalesClosed: this.afterSalesClosed || (endsAt !== undefined && Date.now() >= Date.parse(endsAt)),
      hasShippingAddress: this.shippingAddress !== undefined,
    };
  }

  /** What refunds of a line may give back: what the buyer paid for it (a presale before its final payment: the deposit). */
  refundableFenOf(line: OrderLineView): number {
    return this.typeFacts.depositOnlyFen ?? line.payableFen;
  }

  /** What refunds are priced from: the lines, what was paid, each line's refundable part, and the freight a refund of every unit left gives back (all of it before shipment, none after: README, freight rules). */
  refundBasis(): Pick<PricingTerms, 'lines' | 'paidFen' | 'refundableFenOf' | 'freightFen'> {
    return {
      lines: this.view.lines,
      paidFen: this.view.totals.paidFen,
      refundableFenOf: (line) => this.refundableFenOf(line),
      // A presale's freight is paid with the final payment: before it, refunds give back the deposit only.
      freightFen: this.freightRefundableInFull(),
    };
  }

  /** The freight a refund of every unit left gives back: none once anything shipped; less what failed parcels gave back with their lines. */
  private freightRefundableInFull(): number {
    const parcels = this.view.parcels ?? [];
    if (this.shipment !== undefined || anyShipped(parcels) || this.typeFacts.depositOnlyFen !== undefined) return 0;
    const givenBack = parcels.reduce((sum, parcel) => sum + (parcel.status === 'FAILED' && parcel.failure?.refundedFen !== undefined ? parcel.freightFen : 0), 0);
    return Math.max(0, (this.view.totals.freightFen ?? 0) - givenBack);
  }

  /** What a full refund before shipment gives back of the placement holds (same keys as the saga's undo). */
  releaseOnFullRefund(): HeldStockRelease {
    if (this.holds.campaignStock) {
      return {
        releaseCampaignStockKey: this.key('reserve-campaign-stock'),
        releaseAdmission: this.holds.admissionId ? { idempotencyKey: this.holds.admissionId, reason: 'refunded before shipment' } : undefined,
      };
    }
    return { releaseReservationKey: this.key('reserve-stock') };
  }

  /** Flash-sale holds (campaign pool, admission) are given back whole: before shipment, full refunds only. */
  partialRefundBeforeShipment(): boolean {
    return !this.holds.campaignStock;
  }
}
