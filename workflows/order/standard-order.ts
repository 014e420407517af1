import { allHandlersFinished, condition, log, setHandler, sleep } from '@temporalio/workflow';
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
  type ShipmentFailed,
  type OrderTimeouts,
  type OrderView,
  type PlaceOrderInput,
  type ShipmentDispatched,
} from './definitions';
import { afterMs, now, OrderState } from './state';

/**
 * A standard order, from placement to completion (domain-rules.md):
 *
 *   place (price, reserve stock, lock coupon, hold points, payment intent)
 *   → PENDING_PAYMENT → (payment | timeout → CANCELLED)
 *   → PAID → (shipment | buyer cancel / shipment failure → refund, CANCELLED)
 *   → SHIPPED → (delivery confirmed | auto-confirm) → DELIVERED
 *   → after-sales window → COMPLETED (points available, revenue recognised)
 *
 * Every step's undo is on the saga before the step runs; any failure or cancel before shipment runs
 * them in reverse. Keys are `<orderId>:<step>`, stable across retries, replays and resets.
 */
export async function standardOrderWorkflow(input: PlaceOrderInput, timeouts: OrderTimeouts): Promise<OrderView> {
  const order = new OrderState(input, 'STANDARD');
  const saga = new Saga();
  const key = (step: string) => `${input.orderId}:${step}`;
  const projectOrder = () => mustComplete.projectOrder(order.snapshot());

  let placementDecided = false;
  let cancellation: CancelRequest | undefined;
  let shipment: ShipmentDispatched | undefined;
  let shipmentFailure: string | undefined;
  let deliveredBy: string | undefined;
  const seenPaymentEvents = new Set<string>();
  /** Payments that arrived when the order could no longer take them: refunded automatically. */
  const latePayments: { eventId: string; intentId: string; amountFen: number }[] = [];

  setHandler(getOrderQuery, () => order.view);
  setHandler(placementResultUpdate, async () => {
    await condition(() => placementDecided);
    return order.snapshot();
  });

  setHandler(paymentSucceededSignal, (payment) => {
    if (seenPaymentEvents.has(payment.eventId)) return; // a replayed webhook: nothing twice
    seenPaymentEvents.add(payment.eventId);
    const ownIntent = payment.intentId === order.view.payment.intentId;
    if (ownIntent && order.view.payment.status === 'SUCCEEDED') return; // the payment this order kept, again
    if (order.status === 'PENDING_PAYMENT' && !cancellation && ownIntent) {
      order.view.payment = { ...order.view.payment, status: 'SUCCEEDED', paidAt: payment.paidAt };
      order.record('payment succeeded', { eventId: payment.eventId, amountFen: payment.amountFen });
    } else {
      latePayments.push({ eventId: payment.eventId, intentId: payment.intentId, amountFen: payment.amountFen });
      order.record('late payment received, to be refunded', { eventId: payment.eventId, amountFen: payment.amountFen });
    }
  });
  setHandler(paymentFailedSignal, (failure) => {
    if (seenPaymentEvents.has(failure.eventId)) return;
    seenPaymentEvents.add(failure.eventId);
    // The buyer may try again with the same intent until the payment deadline.
    order.record('payment failed', { eventId: failure.eventId, reason: failure.reason });
  });

  setHandler(
    cancelOrderUpdate,
    async (request) => {
      cancellation = request;
      await condition(() => order.status === 'CANCELLED');
      return order.snapshot();
    },
    {
      validator: (_request: CancelRequest) => {
        if (cancellation) throw new Error('the order is already being cancelled');
        if (order.status !== 'PENDING_PAYMENT' && order.status !== 'PAID') {
          throw new Error(`the order is ${order.status}; only orders not yet shipped can be cancelled`);
        }
        if (shipment || shipmentFailure) throw new Error('the warehouse is already handling the order');
      },
    },
  );
  setHandler(
    shipOrderUpdate,
    async (dispatched) => {
      shipment = dispatched;
      await condition(() => order.status === 'SHIPPED');
      return order.snapshot();
    },
    { validator: (_dispatched: ShipmentDispatched) => assertShippable(order.status, cancellation, shipment, shipmentFailure) },
  );
  setHandler(
    shipmentFailedUpdate,
    async ({ reason }) => {
      shipmentFailure = reason;
      await condition(() => order.status === 'CANCELLED');
      return order.snapshot();
    },
    { validator: (_failure: ShipmentFailed) => assertShippable(order.status, cancellation, shipment, shipmentFailure) },
  );
  setHandler(
    confirmDeliveryUpdate,
    async ({ by }) => {
      deliveredBy = by;
      await condition(() => order.status !== 'SHIPPED');
      return order.snapshot();
    },
    {
      validator: (_confirmation: DeliveryConfirmed) => {
        if (order.status !== 'SHIPPED' || deliveredBy) throw new Error(`the order is ${order.status}; only shipped orders can be delivered`);
      },
    },
  );

  /** Undo everything done so far and end CANCELLED (or REJECTED during placement). */
  const cancelOrder = async (reason: string, by: string) => {
    order.record('cancelling', { reason, by });
    await saga.compensate();
    order.view.cancellation = { reason, by, at: now() };
    if (order.view.payment.status === 'PENDING') order.view.payment.status = 'CANCELLED';
    order.record('cancelled', { reason, by }, 'CANCELLED');
    await projectOrder();
  };

  // --- placement ---------------------------------------------------------------------------------
  await projectOrder();
  try {
    await place(input, order, saga, key);
  } catch (error) {
    const code = rejectionCode(error);
    log.info('order rejected', { code, message: rejectionMessage(error) });
    await saga.compensate();
    order.view.rejection = { code, message: rejectionMessage(error) };
    order.record('rejected', { code }, 'REJECTED');
    placementDecided = true;
    await projectOrder();
    await condition(allHandlersFinished);
    return order.snapshot();
  }
  order.view.deadlines.paymentDueAt = afterMs(timeouts.paymentMs);
  order.record('awaiting payment', { intentId: order.view.payment.intentId }, 'PENDING_PAYMENT');
  placementDecided = true;
  await projectOrder();

  // --- payment -------------------------------------------------------------------------------------
  const paidInTime = order.view.totals.payableFen === 0 || (await condition(
    () => order.view.payment.status === 'SUCCEEDED' || cancellation !== undefined,
    timeouts.paymentMs,
    { summary: 'wait for payment (payment timeout)' },
  ));
  if (!paidInTime || order.view.payment.status !== 'SUCCEEDED') {
    if (cancellation) await cancelOrder(cancellation.reason, cancellation.by);
    else await cancelOrder('payment timeout', 'system');
    await refundLatePayments(order, latePayments, key);
    await condition(allHandlersFinished);
    return order.snapshot();
  }
  await takePayment(input, order, saga, key);
  order.record('paid', { amountFen: order.view.totals.paidFen }, 'PAID');
  await projectOrder();

  // --- shipment ------------------------------------------------------------------------------------
  await condition(() => shipment !== undefined || shipmentFailure !== undefined || cancellation !== undefined);
  if (!shipment) {
    if (shipmentFailure) await cancelOrder(`shipment failed: ${shipmentFailure}`, 'warehouse');
    else await cancelOrder(cancellation!.reason, cancellation!.by);
    await refundLatePayments(order, latePayments, key);
    await condition(allHandlersFinished);
    return order.snapshot();
  }
  await mustComplete.commitStock.executeWithOptions(
    { summary: 'deduct shipped stock for good' },
    [{ idempotencyKey: key('commit-stock'), reservationKey: key('reserve-stock') }],
  );
  // Shipped goods are no longer undone by the saga: from here on, money goes back through after-sales.
  saga.clear();
  order.view.shipment = { ...shipment, shippedAt: now() };
  order.view.deadlines.autoConfirmAt = afterMs(timeouts.autoConfirmDeliveryMs);
  order.record('shipped', { carrier: shipment.carrier, trackingNumber: shipment.trackingNumber }, 'SHIPPED');
  await projectOrder();

  // --- delivery ------------------------------------------------------------------------------------
  const confirmed = await condition(() => deliveredBy !== undefined, timeouts.autoConfirmDeliveryMs, {
    summary: 'wait for delivery confirmation (auto-confirm)',
  });
  order.view.deliveredAt = now();
  order.view.deadlines.afterSalesEndsAt = afterMs(timeouts.afterSalesWindowMs);
  order.record('delivered', { by: confirmed ? deliveredBy : 'auto-confirm' }, 'DELIVERED');
  await projectOrder();

  // --- after-sales window, then completion ------------------------------------------------------
  await sleep(timeouts.afterSalesWindowMs, { summary: 'after-sales window (7-day returns)' });
  const keptFen = order.view.totals.paidFen - order.view.totals.refundedFen;
  await mustComplete.completeOrderPoints.executeWithOptions({ summary: 'pending points become available' }, [
    { idempotencyKey: key('complete-points'), memberId: input.customerId, orderId: input.orderId, completedSpendFen: keptFen },
  ]);
  if (order.view.totals.paidFen > 0) {
    // All money of the order not refunded (or promised back by a refund in flight) becomes revenue.
    await mustComplete.recognizeRevenue.executeWithOptions({ summary: 'recognise revenue in the ledger' }, [
      { idempotencyKey: key('recognize-revenue'), orderId: input.orderId, currency: input.currency },
    ]);
  }
  order.record('completed', { revenueFen: keptFen }, 'COMPLETED');
  await projectOrder();
  await refundLatePayments(order, latePayments, key);
  await condition(allHandlersFinished);
  return order.snapshot();
}

/** Price, reserve stock, lock the coupon, hold the points, create the payment intent. */
async function place(input: PlaceOrderInput, order: OrderState, saga: Saga, key: (step: string) => string): Promise<void> {
  const skus = await forward.getSkusForOrder.executeWithOptions({ summary: 'look up list prices' }, [
    { skuIds: input.lines.map((line) => line.skuId) },
  ]);
  const priceOf = new Map(skus.map((sku) => [sku.id, sku.listPriceFen]));
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
    mustComplete.releaseStock.executeWithOptions({ summary: 'compensate: release stock' }, [{ idempotencyKey: key('reserve-stock') }]),
  );
  await forward.reserveStock.executeWithOptions({ summary: 'reserve stock' }, [
    { idempotencyKey: key('reserve-stock'), orderId: input.orderId, lines: input.lines },
  ]);

  if (input.couponId) {
    saga.onUndo('coupon', 'unlock coupon', () =>
      mustComplete.unlockCoupon.executeWithOptions({ summary: 'compensate: unlock coupon' }, [{ idempotencyKey: key('lock-coupon') }]),
    );
    await forward.lockCoupon.executeWithOptions({ summary: 'lock coupon' }, [
      { idempotencyKey: key('lock-coupon'), couponId: input.couponId, memberId: input.customerId, orderId: input.orderId },
    ]);
  }

  const points = quote.totals.pointsUsed;
  if (points > 0) {
    saga.onUndo('points', 'release held points', () =>
      mustComplete.releaseHeldPoints.executeWithOptions({ summary: 'compensate: release held points' }, [
        { idempotencyKey: key('hold-points') },
      ]),
    );
    await forward.holdPoints.executeWithOptions({ summary: 'hold points' }, [
      { idempotencyKey: key('hold-points'), memberId: input.customerId, orderId: input.orderId, points },
    ]);
  }

  if (quote.totals.payableFen > 0) {
    saga.onUndo('payment', 'cancel payment intent', async () => {
      const intentId = order.view.payment.intentId;
      if (intentId) {
        await mustComplete.cancelPaymentIntent.executeWithOptions({ summary: 'compensate: cancel payment intent' }, [
          { idempotencyKey: key('payment-intent'), intentId },
        ]);
      }
    });
    const intent = await forward.createPaymentIntent.executeWithOptions({ summary: 'create payment intent' }, [
      { idempotencyKey: key('payment-intent'), orderId: input.orderId, amountFen: quote.totals.payableFen, currency: input.currency },
    ]);
    order.view.payment = { ...order.view.payment, intentId: intent.intentId, status: 'PENDING', amountFen: quote.totals.payableFen };
  }
}

/**
 * Capture the authorised payment and turn the placement holds into final effects: coupon used, held
 * points spent, points awarded. Each step's undo replaces the placement undo of the same thing.
 */
async function takePayment(input: PlaceOrderInput, order: OrderState, saga: Saga, key: (step: string) => string): Promise<void> {
  const amountFen = order.view.totals.payableFen;
  const intentId = order.view.payment.intentId;
  if (intentId) {
    saga.onUndo('payment', 'refund the payment', () =>
      mustComplete.refundPayment.executeWithOptions({ summary: 'compensate: refund the payment' }, [
        { idempotencyKey: key('refund-on-cancel'), orderId: input.orderId, amountFen, reason: 'order cancelled' },
      ]),
    );
    await mustComplete.recordPaymentSucceeded.executeWithOptions({ summary: 'record the authorised payment' }, [
      { idempotencyKey: key('record-payment'), orderId: input.orderId, intentId, amountFen, currency: input.currency },
    ]);
    await mustComplete.capturePayment.executeWithOptions({ summary: 'capture the payment' }, [
      { idempotencyKey: key('capture'), orderId: input.orderId, intentId, amountFen, currency: input.currency },
    ]);
  }
  order.view.totals.paidFen = amountFen;

  if (input.couponId) {
    saga.onUndo('coupon', 'return the used coupon', () =>
      mustComplete.returnCoupon.executeWithOptions({ summary: 'compensate: return coupon' }, [
        { idempotencyKey: key('return-coupon'), couponId: input.couponId!, orderId: input.orderId },
      ]),
    );
    await mustComplete.useCoupon.executeWithOptions({ summary: 'mark coupon used' }, [
      { idempotencyKey: key('use-coupon'), couponId: input.couponId, orderId: input.orderId },
    ]);
  }

  const points = order.view.totals.pointsUsed;
  if (points > 0) {
    saga.onUndo('points', 'return the spent points', () =>
      mustComplete.returnUsedPoints.executeWithOptions({ summary: 'compensate: return spent points' }, [
        { idempotencyKey: key('return-points'), memberId: input.customerId, orderId: input.orderId, points },
      ]),
    );
    await mustComplete.commitHeldPoints.executeWithOptions({ summary: 'spend the held points' }, [
      { idempotencyKey: key('commit-points'), holdKey: key('hold-points') },
    ]);
  }

  if (amountFen > 0) {
    saga.onUndo('award', 'revoke pending points', () =>
      mustComplete.revokePendingPoints.executeWithOptions({ summary: 'compensate: revoke pending points' }, [
        { idempotencyKey: key('award-points') },
      ]),
    );
    await mustComplete.awardPendingPoints.executeWithOptions({ summary: 'award pending points' }, [
      { idempotencyKey: key('award-points'), memberId: input.customerId, orderId: input.orderId, paidFen: amountFen },
    ]);
  }
}

/** A payment that reached a cancelled (or already paid) order is refunded, never kept and never lost. */
async function refundLatePayments(
  order: OrderState,
  latePayments: { eventId: string; intentId: string; amountFen: number }[],
  key: (step: string) => string,
): Promise<void> {
  while (latePayments.length > 0) {
    const payment = latePayments.shift()!;
    await mustComplete.refundLatePayment.executeWithOptions({ summary: 'refund a late payment' }, [
      {
        idempotencyKey: key(`late-payment:${payment.eventId}`),
        orderId: order.view.orderId,
        intentId: payment.intentId,
        amountFen: payment.amountFen,
        currency: order.view.currency,
      },
    ]);
    order.view.payment.refunds.push({ refundKey: key(`late-payment:${payment.eventId}`), amountFen: payment.amountFen, reason: 'late payment', at: now() });
    order.record('late payment refunded', { eventId: payment.eventId, amountFen: payment.amountFen });
  }
}

function assertShippable(status: string, cancellation: unknown, shipment: unknown, failure: unknown): void {
  if (status !== 'PAID') throw new Error(`the order is ${status}; only paid orders can be shipped`);
  if (cancellation) throw new Error('the order is being cancelled');
  if (shipment || failure) throw new Error('the shipment was already reported');
}

function rejectionCode(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  return (cause as { type?: string }).type ?? 'PLACEMENT_FAILED';
}

function rejectionMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  return (cause as Error).message ?? 'the order could not be placed';
}
