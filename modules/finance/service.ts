import type { Pool } from 'pg';
import { systemClock, type Clock } from '../shared/db';
import { accountBalances, entriesForOrder } from './journal';
import { createLatePaymentOperations } from './late-payment';
import { createPaymentOperations } from './payments';
import type { PaymentProvider } from './provider';
import { createRecognitionOperations } from './recognition';
import { createReconciliation } from './reconciliation';
import { createRefundOperations } from './refunds';
import { paymentsForOrder } from './store';

export interface FinanceServiceDeps {
  pool: Pool;
  provider: PaymentProvider;
  clock?: Clock;
}

/** The finance module: payments through the provider, the double-entry journal, reconciliation. */
export function createFinanceService(deps: FinanceServiceDeps) {
  const context = { pool: deps.pool, provider: deps.provider, clock: deps.clock ?? systemClock };
  const payments = createPaymentOperations(context);
  const refunds = createRefundOperations(context);
  return {
    ...payments,
    ...refunds,
    // Its cancelPaymentIntent wraps the one of payments (a payment taken at the provider meanwhile is refunded).
    ...createLatePaymentOperations(context, payments, refunds),
    ...createRecognitionOperations(context),
    ...createReconciliation(context),
    accountBalances: () => accountBalances(deps.pool),
    entriesForOrder: (orderId: string) => entriesForOrder(deps.pool, orderId),
    paymentsForOrder: (orderId: string) => paymentsForOrder(deps.pool, orderId),
  };
}

export type FinanceService = ReturnType<typeof createFinanceService>;
