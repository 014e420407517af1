import type { Pool } from 'pg';
import { createInventoryService } from '../modules/inventory';
import type { OrderView } from '../workflows/order/definitions';
import { ALL_WAREHOUSES, type Principal } from './auth';
import { notFound } from './problem';

/**
 * Which orders a caller may see or act on, beyond its role: a customer only their own, a warehouse
 * only orders with units in one of its warehouses (campaign stock belongs to no warehouse: only an
 * all-warehouses key handles it). Refusals are 404, so order ids cannot be probed.
 */
export function createOrderAccess({ pool }: { pool: Pool }) {
  const inventory = createInventoryService({ pool });

  async function assertWarehouseActsFor(principal: Principal, orderId: string, what = `order ${orderId}`): Promise<void> {
    if (principal.role !== 'warehouse') return;
    const scope = principal.warehouseIds ?? [];
    if (scope.includes(ALL_WAREHOUSES)) return;
    const { warehouseIds } = await inventory.warehousesOfOrder(orderId);
    if (!warehouseIds.some((id) => scope.includes(id))) throw notFound(what);
  }

  async function assertCanSee(principal: Principal, order: Pick<OrderView, 'orderId' | 'customerId'>): Promise<void> {
    if (principal.role === 'customer' && order.customerId !== principal.subject) throw notFound(`order ${order.orderId}`);
    await assertWarehouseActsFor(principal, order.orderId);
  }

  return { assertWarehouseActsFor, assertCanSee };
}

export type OrderAccess = ReturnType<typeof createOrderAccess>;
