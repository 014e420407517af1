import {
  cancelPaymentIntentSchema,
  capturePaymentSchema,
  createFinanceService,
  createPaymentIntentSchema,
  forfeitDepositSchema,
  recognizeRevenueSchema,
  recordPaymentSucceededSchema,
  refundLatePaymentSchema,
  reconcileSchema,
  refundPaymentSchema,
  type CancelPaymentIntentInput,
  type CapturePaymentInput,
  type CreatePaymentIntentInput,
  type ForfeitDepositInput,
  type RecognizeRevenueInput,
  type RecordPaymentSucceededInput,
  type ReconcileInput,
  type RefundLatePaymentInput,
  type RefundPaymentInput,
} from '../modules/finance';
import type { ActivityDeps, PaymentActivityDeps } from './deps';
import { asActivity } from './errors';

/**
 * Activities of the finance module: thin wrappers over its service (see modules/README.md).
 * Compensations: cancelPaymentIntent undoes createPaymentIntent (same key); a captured payment is
 * undone by refundPayment. Revenue recognition and forfeits are final and have none.
 */
export function createFinanceActivities(deps: PaymentActivityDeps) {
  const finance = createFinanceService({ pool: deps.pool, provider: deps.payments, clock: deps.clock });
  return {
    async createPaymentIntent(input: CreatePaymentIntentInput) {
      return asActivity(() => finance.createPaymentIntent(createPaymentIntentSchema.parse(input)));
    },
    async cancelPaymentIntent(input: CancelPaymentIntentInput) {
      return asActivity(() => finance.cancelPaymentIntent(cancelPaymentIntentSchema.parse(input)));
    },
    async recordPaymentSucceeded(input: RecordPaymentSucceededInput) {
      return asActivity(() => finance.recordPaymentSucceeded(recordPaymentSucceededSchema.parse(input)));
    },
    async capturePayment(input: CapturePaymentInput) {
      return asActivity(() => finance.capturePayment(capturePaymentSchema.parse(input)));
    },
    /**
     * The payment's two finance steps in one activity (issue 17: one task, not two): recorded as
     * authorised, then captured. Each keeps its own idempotency key, so a retry after the first
     * step redoes nothing of it.
     */
    async settlePayment(input: { record: RecordPaymentSucceededInput; capture: CapturePaymentInput }) {
      return asActivity(async () => {
        await finance.recordPaymentSucceeded(recordPaymentSucceededSchema.parse(input.record));
        return finance.capturePayment(capturePaymentSchema.parse(input.capture));
      });
    },
    async refundPayment(input: RefundPaymentInput) {
      return asActivity(() => finance.refundPayment(refundPaymentSchema.parse(input)));
    },
    async refundLatePayment(input: RefundLatePaymentInput) {
      return asActivity(() => finance.refundLatePayment(refundLatePaymentSchema.parse(input)));
    },
    async recognizeRevenue(input: RecognizeRevenueInput) {
      return asActivity(() => finance.recognizeRevenue(recognizeRevenueSchema.parse(input)));
    },
    async forfeitDeposit(input: ForfeitDepositInput) {
      return asActivity(() => finance.forfeitDeposit(forfeitDepositSchema.parse(input)));
    },
    /** One day of the provider's records against the ledger; one stored report per run key. */
    async reconcile(input: ReconcileInput) {
      return asActivity(() => finance.reconcile(reconcileSchema.parse(input)));
    },
  };
}

export type FinanceActivities = ReturnType<typeof createFinanceActivities>;
