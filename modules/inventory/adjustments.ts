import { z } from 'zod';
import { DomainError } from '../shared/errors';
import { applyOnce } from '../shared/idempotency';
import { alertIfCrossedBelow } from './alerts';
import { INVENTORY_LOG, type InventoryContext } from './context';
import { getStock, totalAvailable } from './stock';

/**
 * Back-office stock changes beside receiving: a counted correction (damage, stocktake) with its
 * reason, and a transfer between warehouses. Both keep reserved units untouched (never below what
 * orders hold) and run once per idempotency key.
 */
const id = z.string().min(1).max(100).regex(/^\S+$/, 'must not contain whitespace');
export const adjustStockSchema = z.object({
  idempotencyKey: z.string().min(1).max(200),
  skuId: id,
  warehouseId: id,
  delta: z.number().int().min(-1_000_000_000).max(1_000_000_000).refine((value) => value !== 0, 'a change of 0 is no adjustment'),
  reason: z.string().trim().min(1).max(500),
});
export const transferStockSchema = z.object({
  idempotencyKey: z.string().min(1).max(200),
  skuId: id,
  fromWarehouseId: id,
  toWarehouseId: id,
  quantity: z.number().int().positive().max(1_000_000_000),
}).refine((input) => input.fromWarehouseId !== input.toWarehouseId, { path: ['toWarehouseId'], message: 'a transfer goes to another warehouse' });

export async function adjustStock(ctx: InventoryContext, input: z.input<typeof adjustStockSchema>) {
  const { idempotencyKey, skuId, warehouseId, delta, reason } = adjustStockSchema.parse(input);
  await applyOnce(ctx.pool, INVENTORY_LOG, idempotencyKey, 'adjust', async (client) => {
    const before = await totalAvailable(client, skuId);
    const updated = await client.query(
      `UPDATE inventory.stock SET on_hand = on_hand + $3, updated_at = $4
        WHERE sku_id = $1 AND warehouse_id = $2 AND on_hand + $3 >= reserved`,
      [skuId, warehouseId, delta, ctx.clock()],
    );
    if (updated.rowCount === 0) {
      throw new DomainError('ADJUSTMENT_REFUSED', `cannot change ${skuId} in ${warehouseId} by ${delta}: no such stock, or below what orders reserved`, { skuId, warehouseId, delta });
    }
    await alertIfCrossedBelow(client, ctx.clock(), skuId, { before, after: before + delta });
    return { skuId, warehouseId, delta, reason };
  });
  return getStock(ctx, skuId);
}

export async function transferStock(ctx: InventoryContext, input: z.input<typeof transferStockSchema>) {
  const { idempotencyKey, skuId, fromWarehouseId, toWarehouseId, quantity } = transferStockSchema.parse(input);
  await applyOnce(ctx.pool, INVENTORY_LOG, idempotencyKey, 'transfer', async (client) => {
    const target = await client.query('SELECT 1 FROM inventory.warehouses WHERE id = $1', [toWarehouseId]);
    if (target.rowCount === 0) throw new DomainError('WAREHOUSE_NOT_FOUND', `no warehouse ${toWarehouseId}`, { warehouseId: toWarehouseId });
    const taken = await client.query(
      `UPDATE inventory.stock SET on_hand = on_hand - $3, updated_at = $4
        WHERE sku_id = $1 AND warehouse_id = $2 AND on_hand - reserved >= $3`,
      [skuId, fromWarehouseId, quantity, ctx.clock()],
    );
    if (taken.rowCount === 0) {
      throw new DomainError('TRANSFER_REFUSED', `${fromWarehouseId} has fewer than ${quantity} unreserved units of ${skuId}`, { skuId, fromWarehouseId, quantity });
    }
    await client.query(
      `INSERT INTO inventory.stock (sku_id, warehouse_id, on_hand, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sku_id, warehouse_id) DO UPDATE SET on_hand = inventory.stock.on_hand + EXCLUDED.on_hand, updated_at = EXCLUDED.updated_at`,
      [skuId, toWarehouseId, quantity, ctx.clock()],
    );
    return { skuId, fromWarehouseId, toWarehouseId, quantity };
  });
  return getStock(ctx, skuId);
}
