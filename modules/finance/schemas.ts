import { z } from 'zod';

const idempotencyKey = z.string().trim().min(1).max(300);
const orderId = z.string().trim().min(1).max(200);
const intentId = z.string().trim().min(1).max(200);
const positiveFen = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as CNY');
const currency = currencyCode.default('CNY');
/** Optional where the payment already fixes the currency: when given, it must match. */
const expectedCurrency = currencyCode.optional();

export const createPaymentIntentSchema = z.object({ idempotencyKey, orderId, amountFen: positiveFen, currency });
export type CreatePaymentIntentInput = z.input<typeof createPaymentIntentSchema>;

/** The compensation of createPaymentIntent: takes the same key. */
export const cancelPaymentIntentSchema = z.object({ idempotencyKey, intentId: intentId.optional() });
export type CancelPaymentIntentInput = z.input<typeof cancelPaymentIntentSchema>;

export const recordPaymentSucceededSchema = z.object({ idempotencyKey, orderId, intentId, amountFen: positiveFen, currency });
export type RecordPaymentSucceededInput = z.input<typeof recordPaymentSucceededSchema>;

/** Captures the authorised amount, or less when `amountFen` says so. */
export const capturePaymentSchema = z.object({ idempotencyKey, orderId, intentId, amountFen: positiveFen.optional(), currency: expectedCurrency });
export type CapturePaymentInput = z.input<typeof capturePaymentSchema>;

/** Refunds across the order's captured payments, the latest first, unless `intentId` names one. */
export const refundPaymentSchema = z.object({
  idempotencyKey,
  orderId,
  amountFen: positiveFen,
  reason: z.string().trim().min(1).max(500),
  intentId: intentId.optional(),
});
export type RefundPaymentInput = z.input<typeof refundPaymentSchema>;

/** Recognises the order's unearned balance as revenue, or `amountFen` of it. */
export const recognizeRevenueSchema = z.object({ idempotencyKey, orderId, amountFen: positiveFen.optional(), currency: expectedCurrency });
export type RecognizeRevenueInput = z.input<typeof recognizeRevenueSchema>;

export const forfeitDepositSchema = z.object({ idempotencyKey, orderId, amountFen: positiveFen, intentId: intentId.optional() });
export type ForfeitDepositInput = z.input<typeof forfeitDepositSchema>;

/**
 * A payment.succeeded that reached an order no longer taking it (cancelled, or paid twice): give the
 * buyer's money back, by voiding the authorisation or, when it was captured, refunding it.
 */
export const refundLatePaymentSchema = z.object({ idempotencyKey, orderId, intentId, amountFen: positiveFen, currency });
export type RefundLatePaymentInput = z.input<typeof refundLatePaymentSchema>;

/** `idempotencyKey` names the run (e.g. the schedule's workflow): the same run stores one report. */
export const reconcileSchema = z.object({ date: z.iso.date(), idempotencyKey: idempotencyKey.optional() });
export type ReconcileInput = z.input<typeof reconcileSchema>;
