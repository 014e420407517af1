import type { PoolClient } from 'pg';
import { DomainError } from '../shared/errors';
import { applyOnce } from '../shared/idempotency';
import { byPriority } from './allocation';
import { byIds, INVENTORY_LOG, mergeLines, type InventoryContext } from './context';
import { restockSchema, type Allocation, type Restock, type RestockInput } from './schemas';

/** Counts units shipped for an order; `warehouseId` null means campaign stock (no warehouse). */
export async function recordShipment(
  client: PoolClient,
  orderId: string,
  shipped: { skuId: string; warehouseId: string | null; quantity: number },
): Promise<void> {
  await client.query(
    `INSERT INTO inventory.shipments (order_id, sku_id, warehouse_id, shipped) VALUES ($1, $2, $3, $4)
     ON CONFLICT (order_id, sku_id, warehouse_id) DO UPDATE SET shipped = inventory.shipments.shipped + EXCLUDED.shipped`,
    [orderId, shipped.skuId, shipped.warehouseId, shipped.quantity],
  );
}

interface ShipmentRow {
  id: string;
  sku_id: string;
  warehouse_id: string | null;
  priority: number | null;
  returnable: number;
}

async function firstWarehouse(client: PoolClient): Promise<string> {
  const found = await client.query<{ id: string }>('SELECT id FROM inventory.warehouses ORDER BY priority, id LIMIT 1');
  if (found.rowCount === 0) throw new DomainError('NO_WAREHOUSE', 'no warehouse to put returned goods into');
  return found.rows[0].id;
}

/**
 * Returned goods back on hand: into the warehouse they shipped from, or for campaign stock (shipped
 * from no warehouse) into the first warehouse by priority. Never more than was shipped for the
 * order and SKU minus what earlier returns brought back.
 */
export async function restock(ctx: InventoryContext, input: RestockInput): Promise<Restock> {
  const { idempotencyKey, orderId, lines } = restockSchema.parse(input);
  const demand = mergeLines(lines);
  return applyOnce(ctx.pool, INVENTORY_LOG, idempotencyKey, 'restock', async (client) => {
    const shipments = await client.query<ShipmentRow>(
      `SELECT sh.id, sh.sku_id, sh.warehouse_id, w.priority, sh.shipped - sh.returned AS returnable
       FROM inventory.shipments sh LEFT JOIN inventory.warehouses w ON w.id = sh.warehouse_id
       WHERE sh.order_id = $1 AND sh.sku_id = ANY($2)
       ORDER BY sh.sku_id COLLATE "C", sh.warehouse_id COLLATE "C" NULLS LAST
       FOR UPDATE OF sh`,
      [orderId, demand.map((line) => line.skuId)],
    );
    const returned: Array<{ shipmentId: string; allocation: Allocation }> = [];
    for (const { skuId, quantity } of demand) {
      const sources = shipments.rows.filter((row) => row.sku_id === skuId && row.returnable > 0);
      const returnable = sources.reduce((sum, row) => sum + row.returnable, 0);
      if (returnable < quantity) {
        throw new DomainError('RESTOCK_EXCEEDS_SHIPPED', `order ${orderId}, SKU ${skuId}: ${quantity} returned, only ${returnable} shipped and not yet returned`, {
          orderId,
          skuId,
          requested: quantity,
          returnable,
        });
      }
      // Known warehouses first, by priority; campaign units (no warehouse) last.
      sources.sort((a, b) =>
        a.warehouse_id === null || b.warehouse_id === null
          ? Number(a.warehouse_id === null) - Number(b.warehouse_id === null)
          : byPriority({ priority: a.priority!, warehouseId: a.warehouse_id }, { priority: b.priority!, warehouseId: b.warehouse_id }),
      );
      let missing = quantity;
      for (const source of sources) {
        const taken = Math.min(missing, source.returnable);
        if (taken === 0) break;
        const warehouseId = source.warehouse_id ?? (await firstWarehouse(client));
        returned.push({ shipmentId: source.id, allocation: { skuId, warehouseId, quantity: taken } });
        missing -= taken;
      }
    }
    for (const { shipmentId, allocation } of returned) {
      await client.query('UPDATE inventory.shipments SET returned = returned + $2 WHERE id = $1', [shipmentId, allocation.quantity]);
    }
    const allocations = mergeAllocations(returned.map((entry) => entry.allocation));
    const now = ctx.clock();
    await client.query('INSERT INTO inventory.restocks (key, order_id, created_at) VALUES ($1, $2, $3)', [idempotencyKey, orderId, now]);
    for (const allocation of allocations) {
      await client.query(
        `INSERT INTO inventory.stock (sku_id, warehouse_id, on_hand, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (sku_id, warehouse_id) DO UPDATE SET on_hand = inventory.stock.on_hand + EXCLUDED.on_hand, updated_at = EXCLUDED.updated_at`,
        [allocation.skuId, allocation.warehouseId, allocation.quantity, now],
      );
      await client.query(
        'INSERT INTO inventory.restock_lines (restock_key, sku_id, warehouse_id, quantity) VALUES ($1, $2, $3, $4)',
        [idempotencyKey, allocation.skuId, allocation.warehouseId, allocation.quantity],
      );
    }
    return { orderId, allocations };
  });
}

/** One allocation per SKU and warehouse (campaign units and warehouse units may land together), in lock order. */
function mergeAllocations(allocations: Allocation[]): Allocation[] {
  const merged = new Map<string, Allocation>();
  for (const allocation of allocations) {
    const key = JSON.stringify([allocation.skuId, allocation.warehouseId]);
    const existing = merged.get(key);
    if (existing) existing.quantity += allocation.quantity;
    else merged.set(key, { ...allocation });
  }
  return [...merged.values()].sort(byIds);
}
