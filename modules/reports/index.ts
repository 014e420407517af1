export * from './service';
export { addDays, dayOf, daySchema, startOfDay, weekOfDay, weekSchema, weekStart } from './days';
export type { SalesDaily, Breakdown } from './sales';
export type { MembersDaily } from './members';
export type { StockRow } from './stock';
export type { AfterSalesDaily } from './after-sales';
export type { TrialBalanceRow } from './finance';
export { liveSnapshot, type LiveSnapshot } from './live';
