/**
 * Chart of accounts (seeded by db/migrations/0050_finance.sql).
 *
 *   cash:provider                   asset, debit-normal. Money the provider holds for us: up on capture,
 *                                   down on refund. Reconciliation compares its movements with the provider.
 *   liability:customer_prepayments  liability, credit-normal. Money received for an order that is not yet
 *                                   earned: the buyer may still cancel or return. Up on capture.
 *   revenue:sales                   revenue, credit-normal. Earned when the order completes (after-sales
 *                                   window closed): moved out of prepayments.
 *   revenue:sales_returns           contra-revenue, debit-normal. Refunds of sales already recognised, kept
 *                                   apart so gross sales stay visible (net sales = sales - sales_returns).
 *   income:forfeited_deposits       other income, credit-normal. Presale deposits kept when the final
 *                                   payment was missed.
 *
 * Bookings (every entry balances, one currency per entry):
 *   payment captured    Dr cash:provider                      Cr liability:customer_prepayments
 *   revenue recognised  Dr liability:customer_prepayments     Cr revenue:sales
 *   refund              Dr liability:customer_prepayments (up to the order's unearned balance)
 *                       Dr revenue:sales_returns (the rest)   Cr cash:provider
 *   deposit forfeited   Dr liability:customer_prepayments     Cr income:forfeited_deposits
 */
export const ACCOUNTS = {
  cash: 'cash:provider',
  prepayments: 'liability:customer_prepayments',
  revenue: 'revenue:sales',
  salesReturns: 'revenue:sales_returns',
  forfeitedDeposits: 'income:forfeited_deposits',
} as const;

export type AccountCode = (typeof ACCOUNTS)[keyof typeof ACCOUNTS];

export type EntryKind = 'PAYMENT_CAPTURED' | 'REVENUE_RECOGNISED' | 'REFUND' | 'DEPOSIT_FORFEITED';
