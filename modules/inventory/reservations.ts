import type { PoolClient } from 'pg';
import { DomainError } from '../shared/errors';
import { applyOnce, compensateOnce, sqlInteger, sqlIntegerArray, sqlText, sqlTextArray, sqlTimestamp, type CompensationOutcome } from '../shared/idempotency';
import { allocateLine } from './allocation';
import { alertIfCrossedBelow } from './alerts';
import { byIds, INVENTORY_LOG, mergeLines, type InventoryContext } from './context';
import { recordShipment } from './shipments';
import {
  commitSchema,
  compensationSchema,
  reserveSchema,
  type Allocation,
  type CommitInput,
  type CommittedStock,
  type CompensationInput,
  type Reservation,
  type ReserveInput,
} from './schemas';

interface StockRow {
  sku_id: string;
  warehouse_id: string;
  priority: number;
  available: number;
  /** The SKU's low-stock threshold (0: none), read with its stock so the alert check needs no query of its own. */
  threshold: number;
}

/**
 * The stock rows of these SKUs with their warehouses' priorities and the SKU's low-stock threshold,
 * in the one global order (see compareIds); `locked`: FOR UPDATE. Literals, not parameters: it is
 * sent with the reservation's claim (applyOnce's `startsWith`), one round trip.
 */
function stockOfSkusSql(skuIds: readonly string[], locked: boolean): string {
  return `SELECT s.sku_id, s.warehouse_id, w.priority, s.on_hand - s.reserved AS available, COALESCE(t.low_stock_threshold, 0) AS threshold
     FROM inventory.stock s JOIN inventory.warehouses w ON w.id = s.warehouse_id
     LEFT JOIN inventory.sku_settings t ON t.sku_id = s.sku_id
     WHERE s.sku_id = ANY(${sqlTextArray(skuIds)})
     ORDER BY s.sku_id COLLATE "C", s.warehouse_id COLLATE "C"${locked ? '\n     FOR UPDATE OF s' : ''}`;
}

/**
 * The check that a reservation decided from an unlocked read still holds, first in its last round
 * trip (inventory.expect_reservable): it locks the SKUs' stock rows in the global order and raises
 * STOCK_CHANGED when an allocation no longer fits or a low-stock threshold would now be crossed.
 */
function expectReservableSql(key: string, demand: readonly { skuId: string; quantity: number }[], allocations: readonly Allocation[]): string {
  return `SELECT inventory.expect_reservable(${sqlText(key)}, ${sqlTextArray(demand.map((line) => line.skuId))}, ${sqlIntegerArray(demand.map((line) => line.quantity))},
     ${sqlTextArray(allocations.map((a) => a.skuId))}, ${sqlTextArray(allocations.map((a) => a.warehouseId))}, ${sqlIntegerArray(allocations.map((a) => a.quantity))})`;
}

/** SQLSTATE of inventory.expect_reservable's refusal (migration 0940). */
const STOCK_CHANGED = 'IVCHG';

/**
 * The reservation, its stock taken and its allocations in one statement (issue 17: one round trip
 * instead of 1 + 2 per allocation), in literals: it travels with the operation's result and COMMIT
 * (applyOnce's finishWith). The rows are locked already (by the locked read, or by the check before
 * it), so every allocation's stock row is there and covers it; the statement checks that itself
 * (inventory.expect_rows, and the stock's CHECK reserved <= on_hand), and a failure rolls back the
 * whole reservation.
 */
function writeReservationSql(key: string, orderId: string, now: Date, allocations: readonly Allocation[]): string {
  return `WITH reservation AS (
       INSERT INTO inventory.reservations (key, order_id, created_at) VALUES (${sqlText(key)}, ${sqlText(orderId)}, ${sqlTimestamp(now)}) RETURNING key),
     wanted AS (
       SELECT * FROM unnest(${sqlTextArray(allocations.map((a) => a.skuId))}, ${sqlTextArray(allocations.map((a) => a.warehouseId))},
         ${sqlIntegerArray(allocations.map((a) => a.quantity))}) AS a(sku_id, warehouse_id, quantity)),
     taken AS (
       UPDATE inventory.stock s SET reserved = s.reserved + a.quantity, updated_at = ${sqlTimestamp(now)}
       FROM wanted a
       WHERE s.sku_id = a.sku_id AND s.warehouse_id = a.warehouse_id
       RETURNING 1),
     allocated AS (
       INSERT INTO inventory.reservation_allocations (reservation_key, sku_id, warehouse_id, quantity)
       SELECT reservation.key, a.sku_id, a.warehouse_id, a.quantity FROM reservation, wanted a
       RETURNING 1)
     SELECT inventory.expect_rows(${sqlText(`stock of reservation ${key}`)}, ${sqlInteger(allocations.length)}, (SELECT count(*) FROM taken)),
            inventory.expect_rows(${sqlText(`allocations of reservation ${key}`)}, ${sqlInteger(allocations.length)}, (SELECT count(*) FROM allocated))`;
}

/**
 * Locks the stock rows a reservation allocated, in the global order; returns its allocations with
 * their state (read after the caller locked the reservation, so no other call changes them meanwhile).
 */
export async function lockStockOfReservation(client: PoolClient, reservationKey: string): Promise<(Allocation & { state: string })[]> {
  const found = await client.query<Allocation & { state: string }>(lockStockOfReservationSql(reservationKey));
  return found.rows;
}

/** lockStockOfReservation's statement in literals, to be sent with an operation's claim (applyOnce's `startsWith`). */
export function lockStockOfReservationSql(reservationKey: string): string {
  return `SELECT a.sku_id AS "skuId", a.warehouse_id AS "warehouseId", a.quantity, a.state FROM inventory.stock s
     JOIN inventory.reservation_allocations a ON a.sku_id = s.sku_id AND a.warehouse_id = s.warehouse_id
     WHERE a.reservation_key = ${sqlText(reservationKey)}
     ORDER BY s.sku_id COLLATE "C", s.warehouse_id COLLATE "C"
     FOR UPDATE OF s`;
}

/**
 * Reserves every line or none. Parallel reservations of a SKU queue on its stock rows' locks, so
 * they can never oversell (the CHECK reserved <= on_hand backs this up).
 *
 * A hot SKU (a flash sale, a live-stream room) makes those locks the queue every buyer waits in, so
 * the lock is held as briefly as the database allows: the reservation is decided from an unlocked
 * read, and the rows are locked only in its last round trip, with its writes and COMMIT, where
 * inventory.expect_reservable checks the decision against the locked rows. When another change came
 * in between and the decision may not hold (an allocation no longer fits, or a low-stock threshold
 * is now crossed and its alert must be decided on exact numbers), everything rolls back and the
 * reservation is decided again from a locked read, as it always was. A refusal (OUT_OF_STOCK) is
 * only ever given from a locked read. Measured in BENCHMARKS.md (session 15).
 */
export async function reserve(ctx: InventoryContext, input: ReserveInput): Promise<Reservation> {
  const request = reserveSchema.parse(input);
  try {
    return await reserveFrom(ctx, request, 'unlocked read');
  } catch (error) {
    if (!(error instanceof DomainError) && (error as { code?: string } | undefined)?.code !== STOCK_CHANGED) throw error;
  }
  return reserveFrom(ctx, request, 'locked read');
}

async function reserveFrom(ctx: InventoryContext, { idempotencyKey, orderId, lines }: ReserveInput, read: 'unlocked read' | 'locked read'): Promise<Reservation> {
  const demand = mergeLines(lines);
  const skuIds = demand.map((line) => line.skuId);
  const locked = read === 'locked read';
  return applyOnce<Reservation, StockRow>(ctx.pool, INVENTORY_LOG, idempotencyKey, 'reserve', async (client, stock, _then, finishWith) => {
    const now = ctx.clock();
    const rowsOf = (skuId: string) => stock.filter((row) => row.sku_id === skuId);
    const allocations = demand.flatMap(({ skuId, quantity }) =>
      allocateLine(
        skuId,
        quantity,
        rowsOf(skuId).map((row) => ({ warehouseId: row.warehouse_id, priority: row.priority, available: row.available })),
      ),
    );
    const ordered = [...allocations].sort(byIds);
    if (!locked) finishWith(expectReservableSql(idempotencyKey, demand, ordered));
    finishWith(writeReservationSql(idempotencyKey, orderId, now, ordered));
    // From an unlocked read the check above has made sure no threshold is crossed.
    if (locked) {
      for (const { skuId, quantity } of demand) {
        const rows = rowsOf(skuId);
        const before = rows.reduce((sum, row) => sum + row.available, 0);
        await alertIfCrossedBelow(client, now, skuId, { before, after: before - quantity, ...(rows[0] ? { threshold: rows[0].threshold } : {}) });
      }
    }
    return { reservationKey: idempotencyKey, orderId, allocations };
  }, stockOfSkusSql(skuIds, locked));
}

export interface ReservationRow {
  order_id: string;
  status: 'RESERVED' | 'RELEASED' | 'COMMITTED';
}

export async function lockReservation(client: PoolClient, key: string): Promise<ReservationRow | undefined> {
  const found = await client.query<ReservationRow>(lockReservationSql(key));
  return found.rows[0];
}

/** lockReservation's statement in literals, to be sent with an operation's claim (applyOnce's `startsWith`). */
export function lockReservationSql(key: string): string {
  return `SELECT order_id, status FROM inventory.reservations WHERE key = ${sqlText(key)} FOR UPDATE`;
}

export async function allocationsOf(client: PoolClient, key: string, state?: 'RESERVED'): Promise<Allocation[]> {
  const found = await client.query<Allocation>(
    `SELECT sku_id AS "skuId", warehouse_id AS "warehouseId", quantity FROM inventory.reservation_allocations
     WHERE reservation_key = $1 AND ($2::text IS NULL OR state = $2) ORDER BY sku_id COLLATE "C", warehouse_id COLLATE "C"`,
    [key, state ?? null],
  );
  return found.rows;
}

/**
 * Compensation of `reserve` (same key): gives the reserved units back to the warehouses they came
 * from. Refused once the reservation was committed: shipped goods come back through `restock`.
 */
export async function release(ctx: InventoryContext, input: CompensationInput): Promise<CompensationOutcome<Reservation>> {
  const { idempotencyKey } = compensationSchema.parse(input);
  return compensateOnce<Reservation, Reservation>(ctx.pool, INVENTORY_LOG, idempotencyKey, 'reserve', async (client) => {
    const reservation = await lockReservation(client, idempotencyKey);
    if (!reservation) throw new Error(`reservation ${idempotencyKey} is recorded as applied but has no row`);
    if (reservation.status === 'COMMITTED') {
      throw new DomainError('RESERVATION_COMMITTED', `reservation ${idempotencyKey} was shipped and cannot be released`, {
        reservationKey: idempotencyKey,
      });
    }
    await lockStockOfReservation(client, idempotencyKey);
    const now = ctx.clock();
    // Only what is still reserved: a parcel shipped or failed on its own already left (parcel-stock.ts).
    await client.query(
      `UPDATE inventory.stock s SET reserved = s.reserved - a.quantity, updated_at = $2
       FROM inventory.reservation_allocations a
       WHERE a.reservation_key = $1 AND a.sku_id = s.sku_id AND a.warehouse_id = s.warehouse_id AND a.state = 'RESERVED'`,
      [idempotencyKey, now],
    );
    await client.query(`UPDATE inventory.reservation_allocations SET state = 'RELEASED' WHERE reservation_key = $1 AND state = 'RESERVED'`, [idempotencyKey]);
    await client.query(`UPDATE inventory.reservations SET status = 'RELEASED', released_at = $2 WHERE key = $1 AND status = 'RESERVED'`, [idempotencyKey, now]);
    return { reservationKey: idempotencyKey, orderId: reservation.order_id, allocations: await allocationsOf(client, idempotencyKey) };
  });
}

/**
 * At shipment: the reserved units leave the warehouses for good (on hand and reserved both go down,
 * so what is available does not change). Recorded per order so returns can be restocked.
 */
export async function commit(ctx: InventoryContext, input: CommitInput): Promise<CommittedStock> {
  const { idempotencyKey, reservationKey } = commitSchema.parse(input);
  return applyOnce<CommittedStock, ReservationRow>(ctx.pool, INVENTORY_LOG, idempotencyKey, 'commit', async (client, [reservation]) => {
    if (!reservation) {
      throw new DomainError('RESERVATION_NOT_FOUND', `no stock reservation ${reservationKey}`, { reservationKey });
    }
    if (reservation.status !== 'RESERVED') {
      throw new DomainError(`RESERVATION_${reservation.status}`, `reservation ${reservationKey} was already ${reservation.status.toLowerCase()}`, {
        reservationKey,
        status: reservation.status,
      });
    }
    const allocations = await allocationsOf(client, reservationKey, 'RESERVED');
    for (const allocation of allocations) await recordShipment(client, reservation.order_id, allocation);
    await lockStockOfReservation(client, reservationKey);
    const now = ctx.clock();
    await client.query(
      `UPDATE inventory.stock s SET on_hand = s.on_hand - a.quantity, reserved = s.reserved - a.quantity, updated_at = $2
       FROM inventory.reservation_allocations a
       WHERE a.reservation_key = $1 AND a.sku_id = s.sku_id AND a.warehouse_id = s.warehouse_id AND a.state = 'RESERVED'`,
      [reservationKey, now],
    );
    await client.query(`UPDATE inventory.reservation_allocations SET state = 'COMMITTED' WHERE reservation_key = $1 AND state = 'RESERVED'`, [reservationKey]);
    await client.query(`UPDATE inventory.reservations SET status = 'COMMITTED', committed_at = $2 WHERE key = $1`, [reservationKey, now]);
    return { reservationKey, orderId: reservation.order_id, allocations };
  }, lockReservationSql(reservationKey));
}
