import { ApplicationFailure, condition, log, setHandler } from '@temporalio/workflow';
import { setUpdateHandler } from '../shared/updates';
import { forward, mustComplete } from '../shared/activities';
import { enforce, refuse, refusalMessage } from '../shared/refusals';
import { msUntil, now } from '../shared/time';
import { waitUntil } from '../shared/wait';
import { mustDo } from './attention';
import type { OrderContext } from './context';
import type { PresaleOrderView } from './definitions';
import { closeIfOpen } from './payment-gate';
import { canPayFinal } from './policy';
import { requestFinalPaymentUpdate, type FinalPaymentRequest, type PresaleTerms } from './presale-definitions';
import { cancel, cancelForReason, settleHolds } from './spine';
import { lockCoupon } from './steps/coupon';
import { capturePayment, openPayment } from './steps/payment';

/** The final payment's intent has its own undo (cancel it), beside the deposit's refund. */
const openFinalIntent = { ...openPayment, thing: 'final-payment', undoSummary: 'cancel the final payment intent' };

/**
 * A presale's second half: the durable sleep until the final window, the reminder, the buyer's
 * request to pay (coupon priced and locked, then the final intent), capture, or the missed window.
 */
export class PresaleFinalPayment {
  private request: FinalPaymentRequest | undefined;
  private refusal: string | undefined;
  /** Refused attempts so far: a later attempt locks the coupon and opens the intent under keys of its own. */
  private attempts = 0;

  constructor(
    private readonly order: OrderContext,
    readonly terms: PresaleTerms,
  ) {
    setUpdateHandler(
      this.order.answersAfterLocalSteps,
      requestFinalPaymentUpdate,
      async (request) => {
        if (!this.request) {
          this.request = request;
          this.refusal = undefined;
        }
        this.order.typeFacts.finalPaymentRequested = true;
        await waitUntil(() => this.opened || this.refusal !== undefined || order.phase !== 'AWAITING_FINAL_PAYMENT');
        if (!this.opened && this.refusal) throw ApplicationFailure.create({ type: 'FINAL_PAYMENT_REFUSED', message: this.refusal, nonRetryable: true });
        return order.state.snapshot();
      },
      {
        validator: (request: FinalPaymentRequest) => {
          enforce(canPayFinal(order.facts(), terms));
          if (this.request && (this.request.couponId ?? null) !== (request.couponId ?? null)) {
            refuse('FINAL_PAYMENT_OPENED', `the final payment was already opened ${this.request.couponId ? `with coupon ${this.request.couponId}` : 'without a coupon'}`);
          }
        },
      },
    );
  }

  private get presale(): PresaleOrderView {
    return this.order.view.presale!;
  }

  private get opened(): boolean {
    return this.presale.finalPayment.status !== 'NONE';
  }

  /** Durable sleep until the final-payment window opens; false when a (refundable) cancel or a deposit refund came first. */
  async sleepUntilFinalWindow(): Promise<boolean> {
    const { order } = this;
    await condition(() => order.cancellation !== undefined || order.refundState.refundedInFull, msUntil(this.terms.finalStart), {
      summary: 'sleep until the final-payment window opens',
    });
    return order.cancellation === undefined && !order.refundState.refundedInFull;
  }

  /** The buyer is reminded that the final payment is due (timeline entry, projected for the storefront). */
  async remind(): Promise<void> {
    this.presale.remindedAt = now();
    this.order.view.deadlines.paymentDueAt = this.terms.finalEnd;
    this.order.record('final payment reminder', { finalBeforeCouponFen: this.presale.finalBeforeCouponFen, finalEnd: this.terms.finalEnd }, 'AWAITING_FINAL_PAYMENT');
    await this.order.project();
  }

  /** Until finalEnd: opens the final payment when asked, then waits for it (or a refundable cancel). */
  async awaitFinalPayment(): Promise<'paid' | 'missed' | 'cancelled'> {
    const { order } = this;
    for (;;) {
      const remaining = Date.parse(this.terms.finalEnd) - Date.now();
      const gate = () => order.gate('final');
      const woke =
        remaining > 0 &&
        (await condition(
          () =>
            order.cancellation !== undefined ||
            order.refundState.refundedInFull ||
            gate()?.state === 'RECEIVED' ||
            this.presale.finalPayment.status === 'SUCCEEDED' ||
            (this.request !== undefined && !this.opened && this.refusal === undefined),
          remaining,
          { summary: 'wait for the final payment (until finalEnd)' },
        ));
      if (gate()?.state === 'RECEIVED' || this.presale.finalPayment.status === 'SUCCEEDED') {
        if (order.phase !== 'FINAL_PAYMENT_RECEIVED') order.record('final payment received', { intentId: gate()?.intentId }, 'FINAL_PAYMENT_RECEIVED');
        return 'paid';
      }
      if (order.cancellation || order.refundState.refundedInFull) return 'cancelled';
      if (!woke) {
        closeIfOpen(gate());
        return 'missed';
      }
      await this.open();
    }
  }

  /**
   * Prices the final payment (coupon checked and locked) and creates its intent; the totals change
   * only once the intent exists, so a failed attempt leaves nothing to subtract twice. A refusal (the
   * coupon, or the provider) answers the buyer's request; the window stays open for another try.
   */
  private async open(): Promise<void> {
    const { order } = this;
    const { input } = order;
    const couponId = this.request!.couponId;
    const beforeCouponFen = this.presale.finalBeforeCouponFen;
    let couponFen = 0;
    try {
      if (couponId && beforeCouponFen > 0) {
        const quote = await forward.quoteOrder.executeWithOptions({ summary: 'price the final payment with the coupon' }, [
          { memberId: input.customerId, orderId: input.orderId, lines: [{ lineId: 'L1', skuId: this.terms.skuId, quantity: 1, unitPriceFen: beforeCouponFen }], couponId },
        ]);
        couponFen = Math.min(quote.totals.couponDiscountFen, beforeCouponFen);
        await order.saga.run(lockCoupon, { couponId, key: this.couponKey() });
      }
      const amountFen = beforeCouponFen - couponFen + (order.view.totals.freightFen ?? 0);
      if (amountFen > 0) await order.saga.run(openFinalIntent, { gate: 'final', amountFen, interactive: true, attempt: this.attempts });
    } catch (error) {
      log.info('final payment refused', { couponId, message: refusalMessage(error) });
      if (couponId) await this.unlockCoupon();
      this.attempts += 1;
      this.refusal = couponId ? `coupon ${couponId} cannot be used, or the payment could not be opened: ${refusalMessage(error)}` : `the final payment could not be opened: ${refusalMessage(error)}`;
      this.request = undefined;
      order.typeFacts.finalPaymentRequested = false;
      order.record('final payment refused', { couponId, reason: refusalMessage(error) });
      await order.project();
      return;
    }
    this.applyCoupon(couponId, couponFen);
    const gate = order.gate('final');
    this.presale.finalPayment = gate
      ? { intentId: gate.intentId, status: 'PENDING', amountFen: gate.amountFen, refunds: [] }
      : { status: 'SUCCEEDED', amountFen: 0, paidAt: now(), refunds: [] };
    order.record('final payment opened', { intentId: gate?.intentId, amountFen: this.presale.finalPayment.amountFen, couponFen });
    await order.project();
  }

  private applyCoupon(couponId: string | undefined, couponFen: number): void {
    const { view } = this.order;
    if (couponId && couponFen >= 0) view.couponId = couponId;
    const line = view.lines[0];
    line.couponDiscountFen = couponFen;
    line.payableFen -= couponFen;
    view.totals.couponDiscountFen = couponFen;
    view.totals.payableFen -= couponFen;
  }

  private couponKey(): string {
    return this.attempts === 0 ? 'lock-coupon' : `lock-coupon:${this.attempts}`;
  }

  private async unlockCoupon(): Promise<void> {
    this.order.saga.drop('coupon');
    await mustDo(this.order, 'unlock the refused coupon', () =>
      mustComplete.unlockCoupon.executeWithOptions({ summary: 'unlock the coupon' }, [{ idempotencyKey: this.order.key(this.couponKey()) }]),
    );
  }

  /** Captures the final payment, uses the coupon, awards points for both payments: PAID. */
  async take(): Promise<void> {
    const { order } = this;
    const gate = order.gate('final');
    if (gate) await mustDo(order, 'capture the final payment', () => order.saga.run(capturePayment, { gate }));
    // From here refunds are priced on both payments (finance splits them per payment).
    order.typeFacts.depositOnlyFen = undefined;
    order.typeFacts.finalPaymentRequested = false;
    this.presale.finalPayment = { ...this.presale.finalPayment, status: 'SUCCEEDED', paidAt: this.presale.finalPayment.paidAt ?? gate?.paidAt ?? now() };
    await settleHolds(order, { spend: false, award: true });
    const paidFen = order.view.totals.paidFen;
    order.view.deadlines.paymentDueAt = undefined;
    order.record('paid', { depositFen: this.presale.depositFen, finalFen: this.presale.finalPayment.amountFen, amountFen: paidFen }, 'PAID');
    await order.project();
  }

  /**
   * finalEnd passed unpaid: stock released; the deposit forfeited as other income, or refunded when the
   * campaign says so. Forfeiting is a business outcome, not an undo: the deposit's refund is dropped.
   */
  async missed(): Promise<void> {
    const { order } = this;
    // A deposit refund request still open decides first: forfeiting (or refunding) alongside it would pay twice.
    await condition(() => order.refundState.open === 0);
    if (order.refundState.refundedInFull) {
      this.presale.depositOutcome = 'REFUNDED';
      return cancelForReason(order);
    }
    if (!this.terms.depositRefundable) {
      order.saga.drop('payment');
      await mustDo(order, 'forfeit the deposit', () =>
        mustComplete.forfeitDeposit.executeWithOptions({ summary: 'forfeit the deposit (other income)' }, [
          { idempotencyKey: order.key('forfeit-deposit'), orderId: order.orderId, amountFen: this.presale.depositFen, intentId: order.gate('deposit')?.intentId },
        ]),
      );
      this.presale.depositOutcome = 'FORFEITED';
    } else {
      this.presale.depositOutcome = 'REFUNDED'; // by the cancel's undo of the deposit
    }
    await cancel(order, 'final payment not made by finalEnd', 'system');
  }
}
