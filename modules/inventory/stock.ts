import type { PoolClient } from 'pg';
import { withTransaction } from '../shared/db';
import { DomainError } from '../shared/errors';
import { applyOnce } from '../shared/idempotency';
import { alertIfCrossedBelow } from './alerts';
import { INVENTORY_LOG, type InventoryContext } from './context';
import {
  receiveStockSchema,
  setLowStockThresholdSchema,
  setStockSchema,
  skuIdSchema,
  upsertWarehouseSchema,
  type ReceiveStockInput,
  type SetLowStockThresholdInput,
  type SetStockInput,
  type SkuStock,
  type UpsertWarehouseInput,
  type WarehouseStock,
} from './schemas';

export async function upsertWarehouse(ctx: InventoryContext, input: UpsertWarehouseInput) {
  const warehouse = upsertWarehouseSchema.parse(input);
  await ctx.pool.query(
    `INSERT INTO inventory.warehouses (id, name, priority) VALUES ($1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, priority = EXCLUDED.priority`,
    [warehouse.id, warehouse.name, warehouse.priority],
  );
  return warehouse;
}

async function assertWarehouseExists(client: PoolClient, warehouseId: string): Promise<void> {
  const found = await client.query('SELECT 1 FROM inventory.warehouses WHERE id = $1', [warehouseId]);
  if (found.rowCount === 0) {
    throw new DomainError('WAREHOUSE_NOT_FOUND', `warehouse ${warehouseId} does not exist`, { warehouseId });
  }
}

export async function totalAvailable(client: PoolClient, skuId: string): Promise<number> {
  const total = await client.query<{ available: number }>(
    'SELECT COALESCE(SUM(on_hand - reserved), 0)::int AS available FROM inventory.stock WHERE sku_id = $1',
    [skuId],
  );
  return total.rows[0].available;
}

/**
 * Sets the counted units of a SKU in a warehouse (a stocktake). Never below what is reserved for
 * orders. To add received goods without racing shipments, prefer `receiveStock`.
 */
export async function setStock(ctx: InventoryContext, input: SetStockInput): Promise<SkuStock> {
  const { skuId, warehouseId, onHand } = setStockSchema.parse(input);
  await withTransaction(ctx.pool, async (client) => {
    await assertWarehouseExists(client, warehouseId);
    await client.query(
      'INSERT INTO inventory.stock (sku_id, warehouse_id) VALUES ($1, $2) ON CONFLICT (sku_id, warehouse_id) DO NOTHING',
      [skuId, warehouseId],
    );
    const row = await client.query<{ on_hand: number; reserved: number }>(
      'SELECT on_hand, reserved FROM inventory.stock WHERE sku_id = $1 AND warehouse_id = $2 FOR UPDATE',
      [skuId, warehouseId],
    );
    const { on_hand: previous, reserved } = row.rows[0];
    if (onHand < reserved) {
      throw new DomainError('STOCK_BELOW_RESERVED', `SKU ${skuId} in ${warehouseId}: ${reserved} units are reserved, cannot set on hand to ${onHand}`, {
        skuId,
        warehouseId,
        onHand,
        reserved,
      });
    }
    const before = await totalAvailable(client, skuId);
    await client.query('UPDATE inventory.stock SET on_hand = $3, updated_at = $4 WHERE sku_id = $1 AND warehouse_id = $2', [
      skuId,
      warehouseId,
      onHand,
      ctx.clock(),
    ]);
    await alertIfCrossedBelow(client, ctx.clock(), skuId, { before, after: before + onHand - previous });
  });
  return getStock(ctx, skuId);
}

/** Adds received units to a warehouse, once per key. */
export async function receiveStock(ctx: InventoryContext, input: ReceiveStockInput): Promise<SkuStock> {
  const { idempotencyKey, skuId, warehouseId, quantity } = receiveStockSchema.parse(input);
  await applyOnce(ctx.pool, INVENTORY_LOG, idempotencyKey, 'receive', async (client) => {
    await assertWarehouseExists(client, warehouseId);
    await client.query(
      `INSERT INTO inventory.stock (sku_id, warehouse_id, on_hand, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sku_id, warehouse_id) DO UPDATE SET on_hand = inventory.stock.on_hand + EXCLUDED.on_hand, updated_at = EXCLUDED.updated_at`,
      [skuId, warehouseId, quantity, ctx.clock()],
    );
    return { skuId, warehouseId, quantity };
  });
  return getStock(ctx, skuId);
}

/** Per-warehouse and total stock of a SKU, warehouses in shipping priority order. */
export async function getStock(ctx: InventoryContext, skuIdInput: string): Promise<SkuStock> {
  const skuId = skuIdSchema.parse(skuIdInput);
  const rows = await ctx.pool.query<{ warehouse_id: string; on_hand: number; reserved: number }>(
    `SELECT s.warehouse_id, s.on_hand, s.reserved FROM inventory.stock s
     JOIN inventory.warehouses w ON w.id = s.warehouse_id
     WHERE s.sku_id = $1 ORDER BY w.priority, w.id`,
    [skuId],
  );
  const warehouses: WarehouseStock[] = rows.rows.map((row) => ({
    warehouseId: row.warehouse_id,
    onHand: row.on_hand,
    reserved: row.reserved,
    available: row.on_hand - row.reserved,
  }));
  const onHand = warehouses.reduce((sum, warehouse) => sum + warehouse.onHand, 0);
  const reserved = warehouses.reduce((sum, warehouse) => sum + warehouse.reserved, 0);
  return { skuId, warehouses, onHand, reserved, available: onHand - reserved };
}

/** 0 turns low-stock alerts off for the SKU. Raising it above the current level opens an alert. */
export async function setLowStockThreshold(ctx: InventoryContext, input: SetLowStockThresholdInput) {
  const { skuId, threshold } = setLowStockThresholdSchema.parse(input);
  await withTransaction(ctx.pool, async (client) => {
    const previous = await client.query<{ low_stock_threshold: number }>(
      'SELECT low_stock_threshold FROM inventory.sku_settings WHERE sku_id = $1 FOR UPDATE',
      [skuId],
    );
    await client.query(
      `INSERT INTO inventory.sku_settings (sku_id, low_stock_threshold) VALUES ($1, $2)
       ON CONFLICT (sku_id) DO UPDATE SET low_stock_threshold = EXCLUDED.low_stock_threshold`,
      [skuId, threshold],
    );
    const available = await totalAvailable(client, skuId);
    await alertIfCrossedBelow(client, ctx.clock(), skuId, {
      before: available,
      after: available,
      thresholdBefore: previous.rows[0]?.low_stock_threshold ?? 0,
      threshold,
    });
  });
  return { skuId, threshold };
}
