import { allHandlersFinished, condition, log, setHandler, sleep } from '@temporalio/workflow';
import type { HeldStockRelease, RequestRefund } from '../after-sales/definitions';
import { OrderAfterSales, refuse } from '../after-sales/order-after-sales';
import { Saga } from '../saga';
import { forward, mustComplete } from './activities';
import {
  cancelOrderUpdate,
  confirmDeliveryUpdate,
  getOrderQuery,
  paymentFailedSignal,
  paymentSucceededSignal,
  placementResultUpdate,
  shipmentFailedUpdate,
  shipOrderUpdate,
  type CancelRequest,
  type DeliveryConfirmed,
  type OrderLineView,
  type OrderStatus,
  type OrderTimeouts,
  type OrderType,
  type OrderView,
  type PaymentSucceeded,
  type PlaceOrderInput,
  type ShipmentDispatched,
  type ShipmentFailed,
} from './definitions';
import { afterMs, now, OrderState } from './state';

/**
 * The spine every order type runs on (standard, presale, group-buy, flash-sale): the order's state,
 * its saga, the messages it accepts (payment callbacks, cancel, shipment, delivery) and the phases
 * that are the same for every type. A workflow reads as its business process by calling these:
 *
 *   const run = new OrderRun(input, 'STANDARD', timeouts);
 *   if (!(await run.place())) return run.finish();
 *   if ((await run.awaitPayment()) !== 'paid') return run.cancelAndFinish();
 *   await run.takePayment();
 *   if (!(await run.awaitShipment())) return run.cancelAndFinish();
 *   await run.deliverAndComplete();
 *   return run.finish();
 *
 * Idempotency keys are `<orderId>:<step>`: stable across retries, replays and resets.
 */
export class OrderRun {
  readonly order: OrderState;
  readonly saga = new Saga();
  /** Refund requests (after-sales): reservations of refundable amounts, child workflows, REFUNDED end. */
  readonly afterSales: OrderAfterSales;

  private placementDecided = false;
  cancellation: CancelRequest | undefined;
  shipment: ShipmentDispatched | undefined;
  shipmentFailure: string | undefined;
  deliveredBy: string | undefined;
  private readonly seenPaymentEvents = new Set<string>();
  /** Payments that arrived when the order could no longer take them: refunded automatically. */
  private readonly latePayments: { eventId: string; intentId: string; amountFen: number }[] = [];

  constructor(
    readonly input: PlaceOrderInput,
    type: OrderType,
    readonly timeouts: OrderTimeouts,
  ) {
    this.order = new OrderState(input, type);
    this.registerHandlers();
    this.afterSales = new OrderAfterSales(this);
  }

  key(step: string): string {
    return `${this.input.orderId}:${step}`;
  }

  /** Writes the order's state to PostgreSQL for the storefront's lists. */
  project(): Promise<void> {
    return mustComplete.projectOrder(this.order.snapshot());
  }

  // --- placement ---------------------------------------------------------------------------------

  /**
   * Price, reserve stock, lock the coupon, hold the points, create the payment intent. On a refusal
   * everything done is undone and the order ends REJECTED with the reason: returns false.
   */
  async place(): Promise<boolean> {
    await this.project();
    try {
      await this.priceAndHold();
    } catch (error) {
      const code = rejectionCode(error);
      log.info('order rejected', { code, message: rejectionMessage(error) });
      await this.saga.compensate();
      this.order.view.rejection = { code, message: rejectionMessage(error) };
      this.order.record('rejected', { code }, 'REJECTED');
      this.placementDecided = true;
      await this.project();
      return false;
    }
    this.order.view.deadlines.paymentDueAt = afterMs(this.timeouts.paymentMs);
    this.order.record('awaiting payment', { intentId: this.order.view.payment.intentId }, 'PENDING_PAYMENT');
    this.placementDecided = true;
    await this.project();
    return true;
  }

  /** Placement of a standard order; order types with other pricing (presale deposit) override it. */
  protected async priceAndHold(): Promise<void> {
    const { input, order, saga } = this;
    const skus = await forward.getSkusForOrder.executeWithOptions({ summary: 'look up list prices' }, [
      { skuIds: input.lines.map((line) => line.skuId) },
    ]);
    const priceOf = new Map(skus.map((sku) => [sku.id, this.unitPriceFor(sku.id, sku.listPriceFen)]));
    const quote = await forward.quoteOrder.executeWithOptions({ summary: 'price: promotions, coupon, points' }, [
      {
        memberId: input.customerId,
        lines: input.lines.map((line, index) => ({
          lineId: `L${index + 1}`,
          skuId: line.skuId,
          quantity: line.quantity,
          unitPriceFen: priceOf.get(line.skuId)!,
        })),
        couponId: input.couponId,
        pointsToRedeem: input.pointsToRedeem,
      },
    ]);
    order.setPrices(
      quote.lines.map((line) => ({ ...line, refundedFen: 0 })),
      quote.totals,
    );
    order.record('priced', { payableFen: quote.totals.payableFen });

    saga.onUndo('stock', 'release reserved stock', () =>
      mustComplete.releaseStock.executeWithOptions({ summary: 'compensate: release stock' }, [{ idempotencyKey: this.key('reserve-stock') }]),
    );
    await forward.reserveStock.executeWithOptions({ summary: 'reserve stock' }, [
      { idempotencyKey: this.key('reserve-stock'), orderId: input.orderId, lines: input.lines },
    ]);

    if (input.couponId) {
      saga.onUndo('coupon', 'unlock coupon', () =>
        mustComplete.unlockCoupon.executeWithOptions({ summary: 'compensate: unlock coupon' }, [{ idempotencyKey: this.key('lock-coupon') }]),
      );
      await forward.lockCoupon.executeWithOptions({ summary: 'lock coupon' }, [
        { idempotencyKey: this.key('lock-coupon'), couponId: input.couponId, memberId: input.customerId, orderId: input.orderId },
      ]);
    }

    const points = quote.totals.pointsUsed;
    if (points > 0) {
      saga.onUndo('points', 'release held points', () =>
        mustComplete.releaseHeldPoints.executeWithOptions({ summary: 'compensate: release held points' }, [
          { idempotencyKey: this.key('hold-points') },
        ]),
      );
      await forward.holdPoints.executeWithOptions({ summary: 'hold points' }, [
        { idempotencyKey: this.key('hold-points'), memberId: input.customerId, orderId: input.orderId, points },
      ]);
    }

    if (quote.totals.payableFen > 0) {
      saga.onUndo('payment', 'cancel payment intent', async () => {
        const intentId = order.view.payment.intentId;
        if (intentId) {
          await mustComplete.cancelPaymentIntent.executeWithOptions({ summary: 'compensate: cancel payment intent' }, [
            { idempotencyKey: this.key('payment-intent'), intentId },
          ]);
        }
      });
      const intent = await forward.createPaymentIntent.executeWithOptions({ summary: 'create payment intent' }, [
        { idempotencyKey: this.key('payment-intent'), orderId: input.orderId, amountFen: quote.totals.payableFen, currency: input.currency },
      ]);
      order.view.payment = { ...order.view.payment, intentId: intent.intentId, status: 'PENDING', amountFen: quote.totals.payableFen };
    }
  }

  // --- payment -------------------------------------------------------------------------------------

  /** Waits for the payment callback until the payment deadline; a cancel request ends the wait. */
  async awaitPayment(): Promise<'paid' | 'cancelled' | 'timeout'> {
    const { order } = this;
    if (order.view.totals.payableFen === 0) return 'paid';
    const settled = await condition(
      () => order.view.payment.status === 'SUCCEEDED' || this.cancellation !== undefined,
      this.timeouts.paymentMs,
      { summary: 'wait for payment (payment timeout)' },
    );
    if (order.view.payment.status === 'SUCCEEDED') return 'paid';
    return settled ? 'cancelled' : 'timeout';
  }

  /**
   * Capture the authorised payment and turn the placement holds into final effects: coupon used, held
   * points spent, points awarded. Each step's undo replaces the placement undo of the same thing.
   */
  async takePayment(): Promise<void> {
    const { input, order, saga } = this;
    const amountFen = order.view.totals.payableFen;
    const intentId = order.view.payment.intentId;
    if (intentId) {
      saga.onUndo('payment', 'refund the payment', () =>
        mustComplete.refundPayment.executeWithOptions({ summary: 'compensate: refund the payment' }, [
          { idempotencyKey: this.key('refund-on-cancel'), orderId: input.orderId, amountFen, reason: 'order cancelled' },
        ]),
      );
      await mustComplete.recordPaymentSucceeded.executeWithOptions({ summary: 'record the authorised payment' }, [
        { idempotencyKey: this.key('record-payment'), orderId: input.orderId, intentId, amountFen, currency: input.currency },
      ]);
      await mustComplete.capturePayment.executeWithOptions({ summary: 'capture the payment' }, [
        { idempotencyKey: this.key('capture'), orderId: input.orderId, intentId, amountFen, currency: input.currency },
      ]);
    }
    order.view.totals.paidFen = amountFen;

    if (input.couponId) {
      saga.onUndo('coupon', 'return the used coupon', () =>
        mustComplete.returnCoupon.executeWithOptions({ summary: 'compensate: return coupon' }, [
          { idempotencyKey: this.key('return-coupon'), couponId: input.couponId!, orderId: input.orderId },
        ]),
      );
      await mustComplete.useCoupon.executeWithOptions({ summary: 'mark coupon used' }, [
        { idempotencyKey: this.key('use-coupon'), couponId: input.couponId, orderId: input.orderId },
      ]);
    }

    const points = order.view.totals.pointsUsed;
    if (points > 0) {
      saga.onUndo('points', 'return the spent points', () =>
        mustComplete.returnUsedPoints.executeWithOptions({ summary: 'compensate: return spent points' }, [
          { idempotencyKey: this.key('return-points'), memberId: input.customerId, orderId: input.orderId, points },
        ]),
      );
      await mustComplete.commitHeldPoints.executeWithOptions({ summary: 'spend the held points' }, [
        { idempotencyKey: this.key('commit-points'), holdKey: this.key('hold-points') },
      ]);
    }

    if (amountFen > 0) {
      saga.onUndo('award', 'revoke pending points', () =>
        mustComplete.revokePendingPoints.executeWithOptions({ summary: 'compensate: revoke pending points' }, [
          { idempotencyKey: this.key('award-points') },
        ]),
      );
      await mustComplete.awardPendingPoints.executeWithOptions({ summary: 'award pending points' }, [
        { idempotencyKey: this.key('award-points'), memberId: input.customerId, orderId: input.orderId, paidFen: amountFen },
      ]);
    }
    order.record('paid', { amountFen: order.view.totals.paidFen }, 'PAID');
    await this.project();
  }

  // --- shipment, delivery, completion --------------------------------------------------------------

  /** Waits for the warehouse: true when shipped (stock deducted for good), false when it must be cancelled. */
  async awaitShipment(): Promise<boolean> {
    await condition(
      () => this.shipment !== undefined || this.shipmentFailure !== undefined || this.cancellation !== undefined || this.afterSales.refundedInFull,
    );
    if (!this.shipment) return false;
    await this.commitHeldStock();
    await this.afterSales.afterShipment();
    // Shipped goods are no longer undone by the saga: from here on, money goes back through after-sales.
    this.saga.clear();
    this.order.view.shipment = { ...this.shipment, shippedAt: now() };
    this.order.view.deadlines.autoConfirmAt = afterMs(this.timeouts.autoConfirmDeliveryMs);
    this.order.record('shipped', { carrier: this.shipment.carrier, trackingNumber: this.shipment.trackingNumber }, 'SHIPPED');
    await this.project();
    return true;
  }

  /** Deducts the shipped goods for good; order types holding other stock (flash-sale campaign pool) override it. */
  protected async commitHeldStock(): Promise<void> {
    await mustComplete.commitStock.executeWithOptions({ summary: 'deduct shipped stock for good' }, [
      { idempotencyKey: this.key('commit-stock'), reservationKey: this.key('reserve-stock') },
    ]);
  }

  /** Delivery (confirmed or auto-confirmed), the after-sales window, then completion. */
  async deliverAndComplete(): Promise<void> {
    const { input, order } = this;
    const confirmed = await condition(() => this.deliveredBy !== undefined, this.timeouts.autoConfirmDeliveryMs, {
      summary: 'wait for delivery confirmation (auto-confirm)',
    });
    order.view.deliveredAt = now();
    order.view.deadlines.afterSalesEndsAt = afterMs(this.timeouts.afterSalesWindowMs);
    order.record('delivered', { by: confirmed ? this.deliveredBy : 'auto-confirm' }, 'DELIVERED');
    await this.project();

    await sleep(this.timeouts.afterSalesWindowMs, { summary: 'after-sales window (7-day returns)' });
    await this.afterSales.closeWindow();
    if (this.afterSales.refundedInFull) return this.afterSales.endRefunded();
    const keptFen = order.view.totals.paidFen - order.view.totals.refundedFen;
    await mustComplete.completeOrderPoints.executeWithOptions({ summary: 'pending points become available' }, [
      { idempotencyKey: this.key('complete-points'), memberId: input.customerId, orderId: input.orderId, completedSpendFen: keptFen },
    ]);
    if (order.view.totals.paidFen > 0) {
      // All money of the order not refunded (or promised back by a refund in flight) becomes revenue.
      await mustComplete.recognizeRevenue.executeWithOptions({ summary: 'recognise revenue in the ledger' }, [
        { idempotencyKey: this.key('recognize-revenue'), orderId: input.orderId, currency: input.currency },
      ]);
    }
    order.record('completed', { revenueFen: keptFen }, 'COMPLETED');
    await this.project();
  }

  // --- cancellation and the end ------------------------------------------------------------------

  /** Undo everything done so far and end CANCELLED, with who asked and why. */
  async cancel(reason: string, by: string): Promise<void> {
    const { order } = this;
    order.record('cancelling', { reason, by });
    await this.saga.compensate();
    order.view.cancellation = { reason, by, at: now() };
    if (order.view.payment.status === 'PENDING') order.view.payment.status = 'CANCELLED';
    order.record('cancelled', { reason, by }, 'CANCELLED');
    await this.project();
  }

  /** Cancels for the reason at hand: the buyer's (or support's) request, a shipment failure, or the payment timeout. */
  async cancelAndFinish(): Promise<OrderView> {
    if (this.afterSales.refundedInFull) {
      await this.afterSales.endRefunded();
      return this.finish();
    }
    if (this.shipmentFailure) await this.cancel(`shipment failed: ${this.shipmentFailure}`, 'warehouse');
    else if (this.cancellation) await this.cancel(this.cancellation.reason, this.cancellation.by);
    else await this.cancel('payment timeout', 'system');
    return this.finish();
  }

  /** Refunds payments that came too late, lets running message handlers answer, returns the final state. */
  async finish(): Promise<OrderView> {
    await this.refundLatePayments();
    await condition(allHandlersFinished);
    return this.order.snapshot();
  }

  /** A payment that reached a cancelled order is refunded, never kept and never lost. */
  private async refundLatePayments(): Promise<void> {
    const { order } = this;
    while (this.latePayments.length > 0) {
      const payment = this.latePayments.shift()!;
      const refundKey = this.key(`late-payment:${payment.eventId}`);
      await mustComplete.refundLatePayment.executeWithOptions({ summary: 'refund a late payment' }, [
        { idempotencyKey: refundKey, orderId: order.view.orderId, intentId: payment.intentId, amountFen: payment.amountFen, currency: order.view.currency },
      ]);
      order.view.payment.refunds.push({ refundKey, amountFen: payment.amountFen, reason: 'late payment', at: now() });
      order.record('late payment refunded', { eventId: payment.eventId, amountFen: payment.amountFen });
    }
  }

  // --- messages ------------------------------------------------------------------------------------

  private registerHandlers(): void {
    const { order } = this;
    setHandler(getOrderQuery, () => order.view);
    setHandler(placementResultUpdate, async () => {
      await condition(() => this.placementDecided);
      return order.snapshot();
    });

    setHandler(paymentSucceededSignal, (payment) => {
      if (this.seenPaymentEvents.has(payment.eventId)) return; // a replayed webhook: nothing twice
      this.seenPaymentEvents.add(payment.eventId);
      if (this.takeOtherPayment(payment)) return; // order types with more than one payment (presale final)
      const ownIntent = payment.intentId === order.view.payment.intentId;
      if (ownIntent && order.view.payment.status === 'SUCCEEDED') return; // the payment this order kept, again
      if (order.status === 'PENDING_PAYMENT' && !this.cancellation && ownIntent) {
        order.view.payment = { ...order.view.payment, status: 'SUCCEEDED', paidAt: payment.paidAt };
        order.record('payment succeeded', { eventId: payment.eventId, amountFen: payment.amountFen });
      } else {
        this.latePayments.push({ eventId: payment.eventId, intentId: payment.intentId, amountFen: payment.amountFen });
        order.record('late payment received, to be refunded', { eventId: payment.eventId, amountFen: payment.amountFen });
      }
    });
    setHandler(paymentFailedSignal, (failure) => {
      if (this.seenPaymentEvents.has(failure.eventId)) return;
      this.seenPaymentEvents.add(failure.eventId);
      // The buyer may try again with the same intent until the payment deadline.
      order.record('payment failed', { eventId: failure.eventId, reason: failure.reason });
    });

    setHandler(
      cancelOrderUpdate,
      async (request) => {
        this.cancellation = request;
        await condition(() => order.status === 'CANCELLED');
        return order.snapshot();
      },
      {
        validator: (_request: CancelRequest) => this.assertCancellable(),
      },
    );
    setHandler(
      shipOrderUpdate,
      async (dispatched) => {
        this.shipment = dispatched;
        await condition(() => order.status === 'SHIPPED');
        return order.snapshot();
      },
      { validator: (_dispatched: ShipmentDispatched) => this.assertShippable() },
    );
    setHandler(
      shipmentFailedUpdate,
      async ({ reason }) => {
        this.shipmentFailure = reason;
        await condition(() => order.status === 'CANCELLED');
        return order.snapshot();
      },
      { validator: (_failure: ShipmentFailed) => this.assertShippable() },
    );
    setHandler(
      confirmDeliveryUpdate,
      async ({ by }) => {
        this.deliveredBy = by;
        await condition(() => order.status !== 'SHIPPED');
        return order.snapshot();
      },
      {
        validator: (_confirmation: DeliveryConfirmed) => {
          if (order.status !== 'SHIPPED' || this.deliveredBy) {
            throw new Error(`the order is ${order.status}; only shipped orders can be delivered`);
          }
        },
      },
    );
  }

  /** The unit price an order line is priced at: the list price, or a campaign's (group price). */
  protected unitPriceFor(_skuId: string, listPriceFen: number): number {
    return listPriceFen;
  }

  /** Whether the buyer (or support) may cancel now; order types may add their own rule. */
  protected assertCancellable(): void {
    const status = this.order.status;
    if (this.cancellation) throw new Error('the order is already being cancelled');
    this.afterSales.assertCancellable();
    if (status !== 'PENDING_PAYMENT' && status !== 'PAID') {
      throw new Error(`the order is ${status}; only orders not yet shipped can be cancelled`);
    }
    if (this.shipment || this.shipmentFailure) throw new Error('the warehouse is already handling the order');
  }

  /**
   * A payment callback for an intent other than the order's main one (the presale final payment):
   * returns true when the order type took it. The standard order has a single payment: false.
   */
  protected takeOtherPayment(_payment: PaymentSucceeded): boolean {
    return false;
  }

  // --- after-sales hooks (OrderAfterSales asks; order types holding other stock or payments override) ---

  /** What a full refund before shipment gives back of the placement holds: the normal stock reservation. */
  releaseOnFullRefund(): HeldStockRelease {
    return { releaseReservationKey: this.key('reserve-stock') };
  }

  /** The money paid for a line that refunds may give back: what the buyer pays for it. */
  refundableFenOf(line: OrderLineView): number {
    return line.payableFen;
  }

  /** A refund request in a state without a spine rule (e.g. a presale's deposit): refused, unless the order type allows it. */
  checkRefundIn(status: OrderStatus, _request: RequestRefund): void {
    refuse('REFUND_NOT_ALLOWED', `the order is ${status}; refunds are possible once paid and until the after-sales window closes`);
  }

  /**
   * Whether a refund before shipment may cover only part of the order's units (they ship with the
   * reservation and go back to normal stock right after). Order types whose placement holds cannot be
   * given back in part (flash-sale campaign pool and admission) answer false: full refund only.
   */
  allowsPartialRefundBeforeShipment(): boolean {
    return true;
  }

  /** Whether the warehouse may ship (or report a failure) now; order types may add their own rule. */
  protected assertShippable(): void {
    const status = this.order.status;
    if (status !== 'PAID') throw new Error(`the order is ${status}; only paid orders can be shipped`);
    if (this.cancellation) throw new Error('the order is being cancelled');
    if (this.shipment || this.shipmentFailure) throw new Error('the shipment was already reported');
    this.afterSales.assertShippable();
  }
}

function rejectionCode(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  return (cause as { type?: string }).type ?? 'PLACEMENT_FAILED';
}

function rejectionMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  return (cause as Error).message ?? 'the order could not be placed';
}
