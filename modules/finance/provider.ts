import type { Fen } from '../shared/money';

/**
 * What the engine needs from a payment provider. Every mutating call carries an idempotency key and
 * the provider must treat a repeated key as the same request (return the first result, never move
 * money twice), so callers may retry any call that failed in transit.
 *
 * Payment is two-step: the buyer authorises the intent at the provider (the outcome arrives later by
 * webhook: payment.succeeded / payment.failed), then the engine captures it, which moves the money.
 * Providers that take the money when the buyer pays (Alipay, WeChat Pay) capture as an idempotent
 * confirmation: capture returns what the buyer paid once the provider says the trade succeeded.
 */
export type IntentStatus = 'requires_payment' | 'authorized' | 'captured' | 'cancelled';

export interface CreateIntentRequest {
  idempotencyKey: string;
  orderId: string;
  amountFen: Fen;
  currency: string;
}

export interface IntentResult {
  intentId: string;
  status: IntentStatus;
  /** What the buyer needs to pay at a real provider (a QR code to scan, a page to open); none for the sandbox. */
  checkout?: Checkout;
}

export interface Checkout {
  qrCode?: string;
  payUrl?: string;
}

export interface CaptureRequest {
  idempotencyKey: string;
  intentId: string;
  amountFen: Fen;
}

export interface CaptureResult {
  captureId: string;
  intentId: string;
  amountFen: Fen;
  status: 'succeeded';
}

export interface RefundRequest {
  idempotencyKey: string;
  intentId: string;
  amountFen: Fen;
}

export interface RefundResult {
  /** Present when the provider recorded the refund; a declined refund may carry none. */
  refundId: string | null;
  status: 'succeeded' | 'failed';
  failureReason?: string;
}

export interface CancelIntentRequest {
  idempotencyKey: string;
  intentId: string;
}

/** One money movement as the provider's books show it: what reconciliation compares with the ledger. */
export interface ProviderTransaction {
  transactionId: string;
  kind: 'capture' | 'refund';
  intentId: string;
  orderId: string;
  amountFen: Fen;
  currency: string;
  occurredAt: string;
}

export interface PaymentProvider {
  createPaymentIntent(request: CreateIntentRequest): Promise<IntentResult>;
  /** Voids an intent that was not captured; a captured intent is refunded instead (refused here). */
  cancelIntent(request: CancelIntentRequest): Promise<IntentResult>;
  capture(request: CaptureRequest): Promise<CaptureResult>;
  refund(request: RefundRequest): Promise<RefundResult>;
  /** Transactions that happened in [from, to). */
  listTransactions(range: { from: Date; to: Date }): Promise<ProviderTransaction[]>;
}

/** The provider could not answer (outage, timeout): retry with the same idempotency key. */
export class ProviderUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderUnavailableError';
  }
}
