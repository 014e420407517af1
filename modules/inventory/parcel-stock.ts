import { z } from 'zod';
import { DomainError } from '../shared/errors';
import { applyOnce, sqlInteger, sqlText, sqlTimestamp } from '../shared/idempotency';
import { idempotencyKeySchema } from './schemas';
import { byPriority } from './allocation';
import { INVENTORY_LOG, type InventoryContext } from './context';
import { lockReservationSql, lockStockOfReservationSql, type ReservationRow } from './reservations';
import type { Allocation } from './schemas';

/**
 * Stock of one parcel: the allocations of an order's reservation in one warehouse (issue 13). A
 * parcel's shipment deducts its warehouse's units for good; its shipment failure gives them back;
 * the other warehouses' units stay reserved for their own parcels. The reservation becomes
 * COMMITTED (or RELEASED, when every parcel failed) once none of its allocations is left RESERVED.
 */
export const parcelStockSchema = z.object({
  idempotencyKey: idempotencyKeySchema,
  reservationKey: idempotencyKeySchema,
  warehouseId: z.string().min(1).max(128),
});
export type ParcelStockInput = z.infer<typeof parcelStockSchema>;

export interface ParcelStock {
  reservationKey: string;
  warehouseId: string;
  allocations: Allocation[];
}

export interface WarehouseShare {
  warehouseId: string;
  priority: number;
  allocations: Allocation[];
}

/** The reservation's allocations grouped by warehouse, in the warehouses' priority order (the parcels' order). */
export async function sharesOfReservation(ctx: InventoryContext, reservationKey: string): Promise<WarehouseShare[]> {
  const found = await ctx.pool.query<Allocation & { priority: number }>(
    `SELECT a.sku_id AS "skuId", a.warehouse_id AS "warehouseId", a.quantity, w.priority
     FROM inventory.reservation_allocations a JOIN inventory.warehouses w ON w.id = a.warehouse_id
     WHERE a.reservation_key = $1 ORDER BY a.sku_id COLLATE "C"`,
    [reservationKey],
  );
  const shares = new Map<string, WarehouseShare>();
  for (const { priority, ...allocation } of found.rows) {
    const share = shares.get(allocation.warehouseId) ?? { warehouseId: allocation.warehouseId, priority, allocations: [] };
    share.allocations.push(allocation);
    shares.set(allocation.warehouseId, share);
  }
  return [...shares.values()].sort(byPriority);
}

async function settle(ctx: InventoryContext, input: ParcelStockInput, to: 'COMMITTED' | 'RELEASED'): Promise<ParcelStock> {
  const { idempotencyKey, reservationKey, warehouseId } = parcelStockSchema.parse(input);
  const operation = to === 'COMMITTED' ? 'commit-parcel' : 'release-parcel';
  // The reservation's lock and its allocations, with the claim. Its stock rows (a hot SKU's, which
  // every buyer's reservation waits on) are locked only in the last round trip, before their writes
  // and with the COMMIT: nothing here is decided from their numbers, and the allocations are the
  // reservation's, under its lock. The order every caller takes them in: reservation, then stock.
  const reads = [lockReservationSql(reservationKey), allocationsOfReservationSql(reservationKey)];
  return applyOnce<ParcelStock, ReservationRow>(ctx.pool, INVENTORY_LOG, idempotencyKey, operation, async (_client, [reservation], [stock], finishWith) => {
    if (!reservation) throw new DomainError('RESERVATION_NOT_FOUND', `no stock reservation ${reservationKey}`, { reservationKey });
    if (reservation.status !== 'RESERVED') {
      throw new DomainError(`RESERVATION_${reservation.status}`, `reservation ${reservationKey} was already ${reservation.status.toLowerCase()}`, {
        reservationKey,
        status: reservation.status,
      });
    }
    const allocations = (stock as (Allocation & { state: string })[])
      .filter((allocation) => allocation.state === 'RESERVED' && allocation.warehouseId === warehouseId)
      .map(({ skuId, warehouseId: warehouse, quantity }) => ({ skuId, warehouseId: warehouse, quantity }));
    if (allocations.length === 0) {
      throw new DomainError('PARCEL_STOCK_NOT_RESERVED', `reservation ${reservationKey} holds nothing in ${warehouseId} any more`, { reservationKey, warehouseId });
    }
    const now = sqlTimestamp(ctx.clock());
    // The stock rows locked, then the allocations settle, the stock follows, and shipped units are
    // counted for returns: one statement, then the reservation, all with the result and COMMIT
    // (finishWith); the statement checks its own counts (inventory.expect_rows).
    const [reservationLiteral, warehouseLiteral] = [sqlText(reservationKey), sqlText(warehouseId)];
    const onHandDelta = to === 'COMMITTED' ? 'a.quantity' : '0';
    const shipped =
      to === 'COMMITTED'
        ? `, shipped AS (
             INSERT INTO inventory.shipments (order_id, sku_id, warehouse_id, shipped) SELECT ${sqlText(reservation.order_id)}, sku_id, warehouse_id, quantity FROM settled
             ON CONFLICT (order_id, sku_id, warehouse_id) DO UPDATE SET shipped = inventory.shipments.shipped + EXCLUDED.shipped RETURNING 1)`
        : '';
    const what = sqlText(`allocations of reservation ${reservationKey} in ${warehouseId}`);
    finishWith(lockStockOfReservationSql(reservationKey));
    finishWith(
      `WITH settled AS (
         UPDATE inventory.reservation_allocations SET state = ${sqlText(to)} WHERE reservation_key = ${reservationLiteral} AND warehouse_id = ${warehouseLiteral} AND state = 'RESERVED'
         RETURNING sku_id, warehouse_id, quantity),
       stock AS (
         UPDATE inventory.stock s SET on_hand = s.on_hand - ${onHandDelta}, reserved = s.reserved - a.quantity, updated_at = ${now}
         FROM settled a WHERE a.sku_id = s.sku_id AND a.warehouse_id = s.warehouse_id RETURNING 1)${shipped}
       SELECT inventory.expect_rows(${what}, ${sqlInteger(allocations.length)}, (SELECT count(*) FROM settled)),
              inventory.expect_rows(${what}, ${sqlInteger(allocations.length)}, (SELECT count(*) FROM stock))`,
    );
    // The last parcel settled: the reservation follows (COMMITTED when anything shipped). A statement
    // of its own, so it sees the allocations just settled.
    finishWith(
      `UPDATE inventory.reservations r SET
         status = CASE WHEN EXISTS (SELECT 1 FROM inventory.reservation_allocations a WHERE a.reservation_key = r.key AND a.state = 'COMMITTED') THEN 'COMMITTED' ELSE 'RELEASED' END,
         committed_at = CASE WHEN EXISTS (SELECT 1 FROM inventory.reservation_allocations a WHERE a.reservation_key = r.key AND a.state = 'COMMITTED') THEN ${now} END,
         released_at = CASE WHEN EXISTS (SELECT 1 FROM inventory.reservation_allocations a WHERE a.reservation_key = r.key AND a.state = 'COMMITTED') THEN NULL ELSE ${now} END
       WHERE r.key = ${reservationLiteral} AND NOT EXISTS (SELECT 1 FROM inventory.reservation_allocations a WHERE a.reservation_key = r.key AND a.state = 'RESERVED')`,
    );
    return { reservationKey, warehouseId, allocations };
  }, reads);
}

/** The reservation's allocations with their state, in lock order; read under the reservation's lock. */
function allocationsOfReservationSql(reservationKey: string): string {
  return `SELECT a.sku_id AS "skuId", a.warehouse_id AS "warehouseId", a.quantity, a.state FROM inventory.reservation_allocations a
     WHERE a.reservation_key = ${sqlText(reservationKey)}
     ORDER BY a.sku_id COLLATE "C", a.warehouse_id COLLATE "C"`;
}

/** The parcel shipped: its warehouse's reserved units leave for good (recorded as shipped, for returns). */
export const commitParcelStock = (ctx: InventoryContext, input: ParcelStockInput) => settle(ctx, input, 'COMMITTED');

/** The parcel's shipment failed: its warehouse's reserved units are available again. */
export const releaseParcelStock = (ctx: InventoryContext, input: ParcelStockInput) => settle(ctx, input, 'RELEASED');
