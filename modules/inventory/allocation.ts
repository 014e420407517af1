import { DomainError } from '../shared/errors';
import type { Allocation } from './schemas';

export interface WarehouseAvailability {
  warehouseId: string;
  priority: number;
  available: number;
}

export function byPriority(a: { priority: number; warehouseId: string }, b: { priority: number; warehouseId: string }): number {
  return a.priority - b.priority || (a.warehouseId < b.warehouseId ? -1 : a.warehouseId > b.warehouseId ? 1 : 0);
}

/**
 * Chooses where one line ships from: the first warehouse by priority that can ship it whole (one
 * parcel), else a split across warehouses in priority order. Refuses with OUT_OF_STOCK when all
 * warehouses together have too little.
 */
export function allocateLine(skuId: string, quantity: number, warehouses: readonly WarehouseAvailability[]): Allocation[] {
  const ordered = [...warehouses].sort(byPriority);
  const whole = ordered.find((warehouse) => warehouse.available >= quantity);
  if (whole) return [{ skuId, warehouseId: whole.warehouseId, quantity }];
  const available = ordered.reduce((sum, warehouse) => sum + Math.max(warehouse.available, 0), 0);
  if (available < quantity) {
    throw new DomainError('OUT_OF_STOCK', `SKU ${skuId}: ${quantity} requested, ${available} available`, {
      skuId,
      requested: quantity,
      available,
    });
  }
  const allocations: Allocation[] = [];
  let missing = quantity;
  for (const warehouse of ordered) {
    const taken = Math.min(missing, warehouse.available);
    if (taken <= 0) continue;
    allocations.push({ skuId, warehouseId: warehouse.warehouseId, quantity: taken });
    missing -= taken;
    if (missing === 0) break;
  }
  return allocations;
}
