import { ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import { forward, mustComplete } from './activities';
import { refuse } from '../after-sales/order-after-sales';
import type { RequestRefund } from '../after-sales/definitions';
import type { OrderLineView, OrderStatus, OrderTimeouts, OrderView, PaymentSucceeded, PresaleOrderView } from './definitions';
import { OrderRun } from './order-run';
import { requestFinalPaymentUpdate, type FinalPaymentRequest, type PresaleOrderInput, type PresaleTerms } from './presale-definitions';
import { now } from './state';

/**
 * A presale order (预售, domain-rules.md), on the standard spine (OrderRun):
 *
 *   place the deposit (reserve normal stock, deposit intent)        → REJECTED on a refusal
 *   → PENDING_PAYMENT → deposit paid in the deposit window, or timeout / buyer cancel → CANCELLED
 *   → DEPOSIT_PAID: durable sleep until finalStart (a refundable deposit may be cancelled meanwhile)
 *   → FINAL_PAYMENT_DUE: reminder recorded; POST /orders/:id/final-payment opens the second intent
 *     (presale price − deposit value (定金膨胀) − coupon; coupons only here) until finalEnd
 *       missed: stock released; deposit forfeited (income:forfeited_deposits) or, when the campaign
 *       says depositRefundable, refunded                              → CANCELLED
 *   → PAID → shipment, delivery, after-sales window, completion as the standard order.
 *
 * Stock: the deposit reserves the SKU's normal warehouse stock (`<orderId>:reserve-stock`), so the
 * spine's shipment step commits it as for any order; campaign pools are the flash sale's.
 * Cancel before the final payment: refundable deposit → refunded and everything undone; not
 * refundable → refused (409) with the reason; after the final payment: refund of both payments.
 * After-sales (refund requests): before the final payment only the whole deposit, refund only, and only
 * when depositRefundable (else 409 DEPOSIT_NOT_REFUNDABLE); while such a request is open the final
 * payment cannot be opened and a missed finalEnd waits for it; once refunded the order ends REFUNDED.
 * After the final payment refunds are priced on both payments and finance splits them per payment.
 */
export async function presaleOrderWorkflow(input: PresaleOrderInput, timeouts: OrderTimeouts): Promise<OrderView> {
  const run = new PresaleRun(input, timeouts);

  if (!(await run.place())) return run.finish();
  if ((await run.awaitPayment()) !== 'paid') return run.cancelAndFinish();
  await run.takeDeposit();
  if (!(await run.sleepUntilFinalWindow())) return run.cancelAndFinish();
  await run.remind();
  const final = await run.awaitFinalPayment();
  if (final === 'missed') return run.missFinalPayment();
  if (final === 'cancelled') return run.cancelAndFinish();
  await run.takeFinalPayment();
  if (!(await run.awaitShipment())) return run.cancelAndFinish();
  await run.deliverAndComplete();
  return run.finish();
}

class PresaleRun extends OrderRun {
  readonly terms: PresaleTerms;
  private finalRequest: FinalPaymentRequest | undefined;
  private finalRefusal: string | undefined;
  private finalWindowClosed = false;

  constructor(input: PresaleOrderInput, timeouts: OrderTimeouts) {
    // The deposit must be paid within the payment timeout and within the deposit window.
    const untilDepositEnd = Date.parse(input.presale.depositEnd) - Date.now();
    super(input, 'PRESALE', { ...timeouts, paymentMs: Math.max(1, Math.min(timeouts.paymentMs, untilDepositEnd)) });
    this.terms = input.presale;
    const finalBeforeCouponFen = (this.terms.presalePriceFen - this.terms.depositValueFen) * this.quantity;
    this.order.view.presale = {
      campaignId: this.terms.campaignId,
      depositFen: this.depositTotalFen,
      depositValueFen: this.terms.depositValueFen * this.quantity,
      depositRefundable: this.terms.depositRefundable,
      finalStart: this.terms.finalStart,
      finalEnd: this.terms.finalEnd,
      finalBeforeCouponFen,
      finalPayment: { status: 'NONE', amountFen: finalBeforeCouponFen, refunds: [] },
    };
    setHandler(
      requestFinalPaymentUpdate,
      async (request) => {
        if (!this.finalRequest) {
          this.finalRequest = request;
          this.finalRefusal = undefined;
        }
        await condition(() => this.finalOpened || this.finalRefusal !== undefined || this.order.status !== 'FINAL_PAYMENT_DUE');
        if (!this.finalOpened && this.finalRefusal) {
          throw ApplicationFailure.create({ type: 'FINAL_PAYMENT_REFUSED', message: this.finalRefusal, nonRetryable: true });
        }
        return this.order.snapshot();
      },
      {
        validator: (request: FinalPaymentRequest) => {
          const status = this.order.status;
          if (status === 'PENDING_PAYMENT' || status === 'DEPOSIT_PAID') {
            throw new Error(`the final-payment window opens at ${this.terms.finalStart} (and closes at ${this.terms.finalEnd})`);
          }
          if (status !== 'FINAL_PAYMENT_DUE' || this.cancellation) {
            throw new Error(`the order is ${status}; the final payment can be made only while it is FINAL_PAYMENT_DUE`);
          }
          if (this.afterSales.openRequests > 0 || this.afterSales.refundedInFull) {
            throw new Error('the deposit is being refunded (after-sales request); the final payment can no longer be opened');
          }
          if (this.finalRequest && (this.finalRequest.couponId ?? null) !== (request.couponId ?? null)) {
            throw new Error(`the final payment was already opened ${this.finalRequest.couponId ? `with coupon ${this.finalRequest.couponId}` : 'without a coupon'}`);
          }
        },
      },
    );
  }

  get quantity(): number {
    return this.input.lines[0].quantity;
  }

  get depositTotalFen(): number {
    return this.terms.depositFen * this.quantity;
  }

  get presale(): PresaleOrderView {
    return this.order.view.presale!;
  }

  private get finalOpened(): boolean {
    return this.presale.finalPayment.status !== 'NONE';
  }

  // --- the deposit ---------------------------------------------------------------------------------

  /** Placement: presale price with deposit inflation, normal stock reserved, the deposit's intent. */
  protected override async priceAndHold(): Promise<void> {
    const { input, order, saga, terms } = this;
    if (Date.now() > Date.parse(terms.depositEnd) || Date.now() < Date.parse(terms.depositStart)) {
      throw ApplicationFailure.create({
        type: 'DEPOSIT_WINDOW_CLOSED',
        message: `deposits are taken from ${terms.depositStart} to ${terms.depositEnd}`,
        nonRetryable: true,
      });
    }
    const quantity = this.quantity;
    const listFen = terms.presalePriceFen * quantity;
    const inflationFen = (terms.depositValueFen - terms.depositFen) * quantity;
    const payableFen = listFen - inflationFen;
    order.setPrices(
      [
        {
          lineId: 'L1',
          skuId: terms.skuId,
          quantity,
          unitPriceFen: terms.presalePriceFen,
          listFen,
          promotionDiscountFen: inflationFen,
          couponDiscountFen: 0,
          pointsDiscountFen: 0,
          payableFen,
          refundedFen: 0,
        },
      ],
      { listFen, promotionDiscountFen: inflationFen, couponDiscountFen: 0, pointsDiscountFen: 0, payableFen, pointsUsed: 0 },
    );
    order.record('priced', { presalePriceFen: listFen, depositFen: this.depositTotalFen, depositInflationFen: inflationFen });

    saga.onUndo('stock', 'release reserved stock', () =>
      mustComplete.releaseStock.executeWithOptions({ summary: 'compensate: release stock' }, [{ idempotencyKey: this.key('reserve-stock') }]),
    );
    await forward.reserveStock.executeWithOptions({ summary: 'reserve stock for the presale' }, [
      { idempotencyKey: this.key('reserve-stock'), orderId: input.orderId, lines: input.lines },
    ]);

    saga.onUndo('payment', 'cancel the deposit intent', async () => {
      const intentId = order.view.payment.intentId;
      if (intentId) {
        await mustComplete.cancelPaymentIntent.executeWithOptions({ summary: 'compensate: cancel the deposit intent' }, [
          { idempotencyKey: this.key('payment-intent'), intentId },
        ]);
      }
    });
    const intent = await forward.createPaymentIntent.executeWithOptions({ summary: 'create the deposit intent' }, [
      { idempotencyKey: this.key('payment-intent'), orderId: input.orderId, amountFen: this.depositTotalFen, currency: input.currency },
    ]);
    order.view.payment = { ...order.view.payment, intentId: intent.intentId, status: 'PENDING', amountFen: this.depositTotalFen };
  }

  /** Captures the deposit; its undo is now a refund (run only when the campaign allows it, see missFinalPayment). */
  async takeDeposit(): Promise<void> {
    const { input, order, saga } = this;
    const amountFen = this.depositTotalFen;
    const intentId = order.view.payment.intentId!;
    saga.onUndo('payment', 'refund the deposit', async () => {
      await mustComplete.refundPayment.executeWithOptions({ summary: 'compensate: refund the deposit' }, [
        { idempotencyKey: this.key('refund-deposit'), orderId: input.orderId, amountFen, reason: 'presale cancelled: deposit refunded', intentId },
      ]);
      this.presale.depositOutcome = 'REFUNDED';
      order.view.totals.refundedFen += amountFen;
      order.view.payment.refunds.push({ refundKey: this.key('refund-deposit'), amountFen, reason: 'deposit refunded', at: now() });
    });
    await mustComplete.recordPaymentSucceeded.executeWithOptions({ summary: 'record the authorised deposit' }, [
      { idempotencyKey: this.key('record-payment'), orderId: input.orderId, intentId, amountFen, currency: input.currency },
    ]);
    await mustComplete.capturePayment.executeWithOptions({ summary: 'capture the deposit' }, [
      { idempotencyKey: this.key('capture'), orderId: input.orderId, intentId, amountFen, currency: input.currency },
    ]);
    order.view.totals.paidFen = amountFen;
    order.view.deadlines.paymentDueAt = this.terms.finalStart;
    order.record('deposit paid', { amountFen, finalStart: this.terms.finalStart }, 'DEPOSIT_PAID');
    await this.project();
  }

  /** Durable sleep until the final-payment window opens; false when a (refundable) cancel came first. */
  async sleepUntilFinalWindow(): Promise<boolean> {
    const untilFinalStart = Date.parse(this.terms.finalStart) - Date.now();
    if (untilFinalStart > 0) {
      await condition(() => this.cancellation !== undefined || this.afterSales.refundedInFull, untilFinalStart, {
        summary: 'sleep until the final-payment window opens',
      });
    }
    return this.cancellation === undefined && !this.depositRefunded();
  }

  /** The buyer is reminded that the final payment is due (timeline entry, projected for the storefront). */
  async remind(): Promise<void> {
    this.presale.remindedAt = now();
    this.order.view.deadlines.paymentDueAt = this.terms.finalEnd;
    this.order.record(
      'final payment reminder',
      { finalBeforeCouponFen: this.presale.finalBeforeCouponFen, finalEnd: this.terms.finalEnd },
      'FINAL_PAYMENT_DUE',
    );
    await this.project();
  }

  // --- the final payment ---------------------------------------------------------------------------

  /** Until finalEnd: opens the final payment when asked, then waits for it (or a refundable cancel). */
  async awaitFinalPayment(): Promise<'paid' | 'missed' | 'cancelled'> {
    const finalEnd = Date.parse(this.terms.finalEnd);
    for (;;) {
      const remaining = finalEnd - Date.now();
      const woke =
        remaining > 0 &&
        (await condition(
          () =>
            this.cancellation !== undefined ||
            this.afterSales.refundedInFull ||
            this.presale.finalPayment.status === 'SUCCEEDED' ||
            (this.finalRequest !== undefined && !this.finalOpened && this.finalRefusal === undefined),
          remaining,
          { summary: 'wait for the final payment (until finalEnd)' },
        ));
      if (this.presale.finalPayment.status === 'SUCCEEDED') return 'paid';
      if (this.cancellation || this.depositRefunded()) return 'cancelled';
      if (!woke) {
        this.finalWindowClosed = true;
        return 'missed';
      }
      await this.openFinalPayment();
    }
  }

  /** Prices the final payment (coupon checked and locked) and creates its intent. A refused coupon answers the request. */
  private async openFinalPayment(): Promise<void> {
    const { input, order, saga } = this;
    const request = this.finalRequest!;
    const beforeCouponFen = this.presale.finalBeforeCouponFen;
    let couponFen = 0;
    if (request.couponId && beforeCouponFen > 0) {
      const couponId = request.couponId;
      try {
        const quote = await forward.quoteOrder.executeWithOptions({ summary: 'price the final payment with the coupon' }, [
          {
            memberId: input.customerId,
            orderId: input.orderId,
            lines: [{ lineId: 'L1', skuId: this.terms.skuId, quantity: 1, unitPriceFen: beforeCouponFen }],
            couponId,
          },
        ]);
        couponFen = Math.min(quote.totals.couponDiscountFen, beforeCouponFen);
        saga.onUndo('coupon', 'unlock coupon', () =>
          mustComplete.unlockCoupon.executeWithOptions({ summary: 'compensate: unlock coupon' }, [{ idempotencyKey: this.key('lock-coupon') }]),
        );
        await forward.lockCoupon.executeWithOptions({ summary: 'lock the coupon for the final payment' }, [
          { idempotencyKey: this.key('lock-coupon'), couponId, memberId: input.customerId, orderId: input.orderId },
        ]);
      } catch (error) {
        const cause = ((error as { cause?: unknown }).cause ?? error) as Error;
        log.info('final payment coupon refused', { couponId, message: cause.message });
        this.finalRefusal = `coupon ${couponId} cannot be used: ${cause.message}`;
        this.finalRequest = undefined;
        order.record('final payment coupon refused', { couponId, reason: cause.message });
        return;
      }
      order.view.couponId = couponId;
    }
    const amountFen = beforeCouponFen - couponFen;
    const line = order.view.lines[0];
    line.couponDiscountFen = couponFen;
    line.payableFen -= couponFen;
    order.view.totals.couponDiscountFen = couponFen;
    order.view.totals.payableFen -= couponFen;

    if (amountFen === 0) {
      this.presale.finalPayment = { status: 'SUCCEEDED', amountFen: 0, paidAt: now(), refunds: [] };
      order.record('final payment opened', { amountFen: 0, couponFen });
      return;
    }
    saga.onUndo('final-payment', 'cancel the final payment intent', async () => {
      const final = this.presale.finalPayment;
      if (final.intentId && final.status !== 'SUCCEEDED') {
        await mustComplete.cancelPaymentIntent.executeWithOptions({ summary: 'compensate: cancel the final payment intent' }, [
          { idempotencyKey: this.key('final-payment-intent'), intentId: final.intentId },
        ]);
        final.status = 'CANCELLED';
      }
    });
    const intent = await forward.createPaymentIntent.executeWithOptions({ summary: 'create the final payment intent' }, [
      { idempotencyKey: this.key('final-payment-intent'), orderId: input.orderId, amountFen, currency: input.currency },
    ]);
    this.presale.finalPayment = { intentId: intent.intentId, status: 'PENDING', amountFen, refunds: [] };
    order.record('final payment opened', { intentId: intent.intentId, amountFen, couponFen });
    await this.project();
  }

  /** The final payment reached the order (webhook): taken while the window is open, else refunded as late. */
  protected override takeOtherPayment(payment: PaymentSucceeded): boolean {
    const final = this.presale.finalPayment;
    if (!final.intentId || payment.intentId !== final.intentId) return false;
    if (final.status === 'SUCCEEDED') return true; // the same payment again
    if (this.order.status === 'FINAL_PAYMENT_DUE' && !this.cancellation && !this.finalWindowClosed) {
      final.status = 'SUCCEEDED';
      final.paidAt = payment.paidAt;
      this.order.record('final payment succeeded', { eventId: payment.eventId, amountFen: payment.amountFen });
      return true;
    }
    return false;
  }

  /** Captures the final payment, uses the coupon, awards points for both payments: PAID. */
  async takeFinalPayment(): Promise<void> {
    const { input, order, saga } = this;
    const final = this.presale.finalPayment;
    const totalFen = this.depositTotalFen + final.amountFen;
    saga.onUndo('payment', 'refund the deposit and the final payment', async () => {
      await mustComplete.refundPayment.executeWithOptions({ summary: 'compensate: refund both payments' }, [
        { idempotencyKey: this.key('refund-on-cancel'), orderId: input.orderId, amountFen: totalFen, reason: 'order cancelled' },
      ]);
      order.view.totals.refundedFen += totalFen;
      order.view.payment.refunds.push({ refundKey: this.key('refund-on-cancel'), amountFen: totalFen, reason: 'order cancelled', at: now() });
    });
    if (final.intentId) {
      await mustComplete.recordPaymentSucceeded.executeWithOptions({ summary: 'record the authorised final payment' }, [
        { idempotencyKey: this.key('record-final-payment'), orderId: input.orderId, intentId: final.intentId, amountFen: final.amountFen, currency: input.currency },
      ]);
      await mustComplete.capturePayment.executeWithOptions({ summary: 'capture the final payment' }, [
        { idempotencyKey: this.key('capture-final'), orderId: input.orderId, intentId: final.intentId, amountFen: final.amountFen, currency: input.currency },
      ]);
    }
    order.view.totals.paidFen = totalFen;

    const couponId = order.view.couponId;
    if (couponId) {
      saga.onUndo('coupon', 'return the used coupon', () =>
        mustComplete.returnCoupon.executeWithOptions({ summary: 'compensate: return coupon' }, [
          { idempotencyKey: this.key('return-coupon'), couponId, orderId: input.orderId },
        ]),
      );
      await mustComplete.useCoupon.executeWithOptions({ summary: 'mark coupon used' }, [
        { idempotencyKey: this.key('use-coupon'), couponId, orderId: input.orderId },
      ]);
    }

    saga.onUndo('award', 'revoke pending points', () =>
      mustComplete.revokePendingPoints.executeWithOptions({ summary: 'compensate: revoke pending points' }, [{ idempotencyKey: this.key('award-points') }]),
    );
    await mustComplete.awardPendingPoints.executeWithOptions({ summary: 'award pending points' }, [
      { idempotencyKey: this.key('award-points'), memberId: input.customerId, orderId: input.orderId, paidFen: totalFen },
    ]);
    order.view.deadlines.paymentDueAt = undefined;
    order.record('paid', { depositFen: this.depositTotalFen, finalFen: final.amountFen, amountFen: totalFen }, 'PAID');
    await this.project();
  }

  /** finalEnd passed unpaid: stock released; the deposit forfeited as other income, or refunded when the campaign says so. */
  async missFinalPayment(): Promise<OrderView> {
    const { input, saga } = this;
    const amountFen = this.depositTotalFen;
    // A deposit refund request still open decides first: forfeiting (or refunding) the deposit alongside it would pay twice.
    if (this.afterSales.openRequests > 0) {
      await condition(() => this.afterSales.openRequests === 0);
    }
    if (this.depositRefunded()) return this.cancelAndFinish();
    if (!this.terms.depositRefundable) {
      saga.onUndo('payment', 'forfeit the deposit', async () => {
        await mustComplete.forfeitDeposit.executeWithOptions({ summary: 'forfeit the deposit (other income)' }, [
          { idempotencyKey: this.key('forfeit-deposit'), orderId: input.orderId, amountFen, intentId: this.order.view.payment.intentId },
        ]);
        this.presale.depositOutcome = 'FORFEITED';
      });
    }
    await this.cancel('final payment not made by finalEnd', 'system');
    return this.finish();
  }

  /** Before the final payment only a refundable deposit can be cancelled (and refunded). */
  protected override assertCancellable(): void {
    const status = this.order.status;
    if (status === 'DEPOSIT_PAID' || status === 'FINAL_PAYMENT_DUE') {
      if (this.cancellation) throw new Error('the order is already being cancelled');
      this.afterSales.assertCancellable();
      if (!this.terms.depositRefundable) {
        throw new Error(
          `the deposit of presale ${this.terms.campaignId} is not refundable: the order cannot be cancelled before the final payment` +
            ` (a final payment not made by ${this.terms.finalEnd} forfeits the deposit)`,
        );
      }
      return;
    }
    super.assertCancellable();
  }

  // --- after-sales (domain-rules.md: before the final payment only the deposit, and only if refundable) ---

  /** The deposit was refunded through after-sales (the order then ends REFUNDED, see endRefunded). */
  private depositRefunded(): boolean {
    if (!this.afterSales.refundedInFull) return false;
    this.presale.depositOutcome = 'REFUNDED';
    return true;
  }

  /** Before the final payment a line has only its deposit paid; after it, deposit + final (refundPayment splits them). */
  override refundableFenOf(line: OrderLineView): number {
    const status = this.order.status;
    return status === 'DEPOSIT_PAID' || status === 'FINAL_PAYMENT_DUE' ? this.depositTotalFen : super.refundableFenOf(line);
  }

  /** A refund request before the final payment: the whole deposit, refund only, and only when the campaign allows it. */
  override checkRefundIn(status: OrderStatus, request: RequestRefund): void {
    if (status !== 'DEPOSIT_PAID' && status !== 'FINAL_PAYMENT_DUE') return super.checkRefundIn(status, request);
    if (!this.terms.depositRefundable) {
      refuse(
        'DEPOSIT_NOT_REFUNDABLE',
        `the deposit of presale ${this.terms.campaignId} is not refundable: nothing can be refunded before the final payment` +
          ` (a final payment not made by ${this.terms.finalEnd} forfeits the deposit)`,
      );
    }
    if (this.cancellation) refuse('REFUND_NOT_ALLOWED', 'the order is being cancelled');
    if (this.finalRequest || this.presale.finalPayment.status !== 'NONE') {
      refuse('REFUND_NOT_ALLOWED', 'the final payment is open: pay it (then refunds cover both payments) or let it lapse');
    }
    if (request.kind !== 'REFUND_ONLY') refuse('REFUND_NOT_ALLOWED', 'before the final payment only the deposit can be refunded (REFUND_ONLY)');
    const units = Array.isArray(request.lines) ? request.lines.reduce((sum, line) => sum + (Number(line?.quantity) || 0), 0) : 0;
    if (units !== this.quantity) {
      refuse('INVALID_REFUND_REQUEST', `before the final payment only the whole deposit can be refunded: ask for all ${this.quantity} unit(s)`);
    }
  }
}
