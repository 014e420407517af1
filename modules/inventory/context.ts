import type { Pool } from 'pg';
import type { Clock } from '../shared/db';
import type { OperationLog } from '../shared/idempotency';
import type { StockLine } from './schemas';

export interface InventoryContext {
  pool: Pool;
  clock: Clock;
}

export const INVENTORY_LOG: OperationLog = { schema: 'inventory' };

/**
 * Byte order of the UTF-8 ids, the same order as SQL `ORDER BY id COLLATE "C"`: rows are locked and
 * inserted in this one order everywhere, so two transactions never wait on each other in a cycle.
 */
export function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function byIds<T extends { skuId: string; warehouseId?: string | null }>(a: T, b: T): number {
  return compareIds(a.skuId, b.skuId) || compareIds(a.warehouseId ?? '', b.warehouseId ?? '');
}

/** One line per SKU (quantities of repeated SKUs added up), in lock order. */
export function mergeLines(lines: readonly StockLine[]): StockLine[] {
  const totals = new Map<string, number>();
  for (const { skuId, quantity } of lines) totals.set(skuId, (totals.get(skuId) ?? 0) + quantity);
  return [...totals].map(([skuId, quantity]) => ({ skuId, quantity })).sort(byIds);
}
