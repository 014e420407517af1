export { createFinanceService, type FinanceService, type FinanceServiceDeps } from './service';
export * from './schemas';
export * from './provider';
export { ACCOUNTS, type AccountCode, type EntryKind } from './accounts';
export type { AccountBalance, JournalEntry, JournalLine } from './journal';
export { PAYMENT_BY_INTENT_JSON, paymentByIntent, paymentFromJson, type Payment, type PaymentState } from './store';
export type { CapturedPayment, CreatedIntent } from './payments';
export type { RefundOutcome, SettledRefund } from './refunds';
export type { Booking } from './recognition';
export type { LatePaymentOutcome } from './late-payment';
export { reconciliationReports, type ReconciliationDifference, type ReconciliationReport } from './reconciliation';
// The sandbox provider is a development tool, left out of the production build: import it from
// './sandbox' (tests, infra/dev-tools.ts). The webhook signature scheme is the engine's own.
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature } from './webhook-signature';
export * from './alipay';
export { BEIJING_OFFSET_MS, fenToYuan, fromBeijingTime, toBeijingTime, yuanToFen } from './cny';
export {
  checkoutOf,
  judgePaymentNotice,
  listRefusedNotifications,
  recordRefusedNotification,
  type GateVerdict,
  type PaymentNotice,
  type RefusedNotification,
} from './notification-gate';
export * from './wechatpay';
