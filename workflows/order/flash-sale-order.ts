import type { HeldStockRelease } from '../after-sales/definitions';
import { forward, mustComplete } from './activities';
import type { OrderTimeouts, OrderView, PlaceOrderInput } from './definitions';
import { OrderRun } from './order-run';

/** A flash-sale order starts from an admission (modules/flash-sale): the unit is already the buyer's. */
export interface FlashSaleOrderInput extends PlaceOrderInput {
  campaignId: string;
  /** Also the key of the admission's compensation (releaseAdmission). */
  admissionId: string;
}

/**
 * A flash-sale order (秒杀, domain-rules.md), on the standard spine (OrderRun). The API admitted the
 * buyer before starting this workflow (campaign unit and per-user limit taken atomically in
 * PostgreSQL); the workflow id is `order-<orderId>`, the order id derived from the admission.
 *
 *   place: check the admission, price at the flash price, reserve the campaign's stock pool
 *          (inventory, `<orderId>:reserve-campaign-stock`), create the payment intent   → REJECTED
 *   → PENDING_PAYMENT → payment, or timeout (FLASH_SALE_PAYMENT_TIMEOUT, 5 min) / cancel → CANCELLED:
 *     the campaign stock is released and the admission too, so the unit goes back on sale and the
 *     buyer's limit is restored
 *   → PAID → shipment (the campaign units are committed: sold) → delivery → completion, as standard.
 *
 * The admission's undo is registered first, so it runs last: the campaign pool is always released
 * before the admission counter gives the unit back (admission taken ≥ pool reserved + sold).
 * No coupon or points on a flash-sale order, and no promotion on top of the flash price.
 */
export async function flashSaleOrderWorkflow(input: FlashSaleOrderInput, timeouts: OrderTimeouts): Promise<OrderView> {
  const run = new FlashSaleRun(input, timeouts);

  if (!(await run.place())) return run.finish();
  if ((await run.awaitPayment()) !== 'paid') return run.cancelAndFinish();
  await run.takePayment();
  if (!(await run.awaitShipment())) return run.cancelAndFinish();
  await run.deliverAndComplete();
  return run.finish();
}

class FlashSaleRun extends OrderRun {
  constructor(
    readonly flash: FlashSaleOrderInput,
    timeouts: OrderTimeouts,
  ) {
    super(flash, 'FLASH_SALE', timeouts);
  }

  /** Why the unit goes back, for the admission record (evaluated when the compensation runs). */
  private releaseReason(): string {
    if (this.order.status === 'PLACING') return 'placement failed';
    if (this.shipmentFailure) return 'shipment failed';
    if (this.cancellation) return `cancelled by ${this.cancellation.by}`;
    return 'payment timeout';
  }

  protected override async priceAndHold(): Promise<void> {
    const { flash, order, saga } = this;
    saga.onUndo('admission', 'return the unit to the flash sale and the buyer', () =>
      mustComplete.releaseAdmission.executeWithOptions({ summary: "compensate: unit back to the campaign and the buyer's limit" }, [
        { idempotencyKey: flash.admissionId, reason: this.releaseReason() },
      ]),
    );
    const admission = await forward.confirmAdmission.executeWithOptions({ summary: 'check the flash-sale admission' }, [
      { admissionId: flash.admissionId, orderId: flash.orderId },
    ]);

    const amountFen = admission.unitPriceFen * admission.quantity;
    order.setPrices(
      [
        {
          lineId: 'L1',
          skuId: admission.skuId,
          quantity: admission.quantity,
          unitPriceFen: admission.unitPriceFen,
          listFen: amountFen,
          promotionDiscountFen: 0,
          couponDiscountFen: 0,
          pointsDiscountFen: 0,
          payableFen: amountFen,
          refundedFen: 0,
        },
      ],
      { listFen: amountFen, promotionDiscountFen: 0, couponDiscountFen: 0, pointsDiscountFen: 0, payableFen: amountFen, pointsUsed: 0 },
    );
    order.record('priced', { payableFen: amountFen, flashPriceFen: admission.unitPriceFen, campaignId: flash.campaignId });

    saga.onUndo('stock', 'release campaign stock', () =>
      mustComplete.releaseCampaignStock.executeWithOptions({ summary: 'compensate: release campaign stock' }, [
        { idempotencyKey: this.key('reserve-campaign-stock') },
      ]),
    );
    await forward.reserveCampaignStock.executeWithOptions({ summary: 'reserve campaign stock' }, [
      {
        idempotencyKey: this.key('reserve-campaign-stock'),
        campaignId: flash.campaignId,
        skuId: admission.skuId,
        quantity: admission.quantity,
        orderId: flash.orderId,
      },
    ]);

    saga.onUndo('payment', 'cancel payment intent', async () => {
      const intentId = order.view.payment.intentId;
      if (intentId) {
        await mustComplete.cancelPaymentIntent.executeWithOptions({ summary: 'compensate: cancel payment intent' }, [
          { idempotencyKey: this.key('payment-intent'), intentId },
        ]);
      }
    });
    const intent = await forward.createPaymentIntent.executeWithOptions({ summary: 'create payment intent' }, [
      { idempotencyKey: this.key('payment-intent'), orderId: flash.orderId, amountFen, currency: flash.currency },
    ]);
    order.view.payment = { ...order.view.payment, intentId: intent.intentId, status: 'PENDING', amountFen };
  }

  /**
   * A full refund before shipment (after-sales) gives back what placement took, with the same keys as
   * the saga's undo (so it happens once whichever path runs): the campaign pool, then the admission.
   */
  override releaseOnFullRefund(): HeldStockRelease {
    return {
      releaseCampaignStockKey: this.key('reserve-campaign-stock'),
      releaseAdmission: { idempotencyKey: this.flash.admissionId, reason: 'refunded before shipment' },
    };
  }

  /**
   * Before shipment a flash order is refunded in full or not at all (422 PARTIAL_REFUND_NOT_ALLOWED).
   * domain-rules.md: a cancelled flash order returns its unit to the campaign. Refunded units of a
   * partial refund before shipment would otherwise ship with the campaign reservation (sold) and be
   * restocked into the SKU's normal stock, with the campaign counter and the buyer's limit still
   * taken: the flash units would leak into normal stock at the flash price's expense. The campaign
   * pool's reservation and the admission are released whole (by key, never in part), so a full
   * refund gives both back (releaseOnFullRefund); a partial one cannot. After shipment a refund is
   * a return of goods to the warehouse: normal stock is right there, and the units stay sold.
   */
  override allowsPartialRefundBeforeShipment(): boolean {
    return false;
  }

  protected override async commitHeldStock(): Promise<void> {
    await mustComplete.commitCampaignStock.executeWithOptions({ summary: 'deduct the shipped campaign units for good' }, [
      { idempotencyKey: this.key('commit-campaign-stock'), reservationKey: this.key('reserve-campaign-stock') },
    ]);
  }
}
