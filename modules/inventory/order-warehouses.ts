import type { InventoryContext } from './context';

export interface OrderWarehouses {
  /** Warehouses holding (or having shipped) the order's units. */
  warehouseIds: string[];
  /** Some units come from a campaign pool, which belongs to no warehouse. */
  campaignStock: boolean;
}

/** Where an order's units are: the warehouses of its reservations' allocations, and whether a campaign pool holds some. */
export async function warehousesOfOrder(ctx: InventoryContext, orderId: string): Promise<OrderWarehouses> {
  const found = await ctx.pool.query<{ warehouse_ids: string[] | null; campaign_stock: boolean }>(
    `SELECT (SELECT array_agg(DISTINCT a.warehouse_id ORDER BY a.warehouse_id)
               FROM inventory.reservations r JOIN inventory.reservation_allocations a ON a.reservation_key = r.key
              WHERE r.order_id = $1) AS warehouse_ids,
            EXISTS (SELECT 1 FROM inventory.campaign_reservations WHERE order_id = $1) AS campaign_stock`,
    [orderId],
  );
  return { warehouseIds: found.rows[0].warehouse_ids ?? [], campaignStock: found.rows[0].campaign_stock };
}
