import type { Pool } from 'pg';
import type { OrderView } from '../../workflows/order/definitions';
import { orderEvents } from '../events/order-events';
import { OUTBOX_LOCK, outboxColumns } from '../events/outbox';
import { ORDER_ADDRESS_COLUMN, orderAddressOf, SAVE_ORDER_ADDRESS_CALL, saveOrderAddressArguments, type ShippingAddress } from '../logistics/addresses';
import { RECORD_PARCELS_CALL, recordParcelsArguments } from '../logistics/parcels';

/**
 * Writes the order workflow's state to `orders.orders`. Idempotent and order-insensitive: a row is only
 * replaced by a higher version, so a retried or late activity never moves an order backwards.
 * The order's domain events (modules/events/order-events.ts) are written in the same transaction.
 */
/**
 * For the unpaid-orders cap, read with other modules' rows in one statement (placement): whether order
 * `orderIdParam` is already projected (a retry is never refused) and how many of customer
 * `customerParam`'s orders are in status `statusParam`, as one jsonb column `{ exists, count }`.
 */
export const ORDER_EXISTS_AND_COUNT_JSON = (orderIdParam: string, customerParam: string, statusParam: string) =>
  `jsonb_build_object('exists', EXISTS (SELECT 1 FROM orders.orders WHERE order_id = ${orderIdParam}::text),
     'count', (SELECT count(*) FROM orders.orders WHERE customer_id = ${customerParam}::text AND status = ${statusParam}::text))`;

export function createOrderProjection({ pool }: { pool: Pool }) {
  const projection = {
    /**
     * One round trip: orders.save_view (db/migrations/0900_order_view_save.sql) upserts and writes the
     * new events. `withParcels`: the order's parcels' rows (logistics.record_parcels), `withAddress`:
     * the address it ships to (logistics.save_order_address), in the same statement, so in the same
     * transaction.
     */
    async save(view: OrderView, options: { withParcels?: { now: Date }; withAddress?: { version: number; address: ShippingAddress } } = {}): Promise<void> {
      const createdAt = view.timeline[0]?.at ?? new Date().toISOString();
      const parcels = options.withParcels && view.parcels ? recordParcelsArguments(view.orderId, view.parcels, view.version, options.withParcels.now) : [];
      const address = options.withAddress ? saveOrderAddressArguments({ orderId: view.orderId, ...options.withAddress }) : [];
      const calls = [
        'orders.save_view($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)',
        ...(parcels.length ? [RECORD_PARCELS_CALL(20)] : []),
        ...(address.length ? [SAVE_ORDER_ADDRESS_CALL(20 + parcels.length)] : []),
      ];
      await pool.query(
        `SELECT ${calls.join(', ')}`,
        [
          view.orderId,
          view.customerId,
          view.type,
          view.status,
          view.currency,
          view.totals.payableFen,
          view.totals.refundedFen,
          JSON.stringify(view),
          view.version,
          createdAt,
          view.channel?.kind ?? null,
          OUTBOX_LOCK,
          ...outboxColumns(orderEvents(view)),
          ...parcels,
          ...address,
        ],
      );
    },

    /**
     * What the API writes after an accepted update: the view it was answered with, unless the row is
     * already at that version or newer. The workflow projects each change in the workflow task that
     * answers the update, so the row is nearly always current already, and a version read is a small
     * statement where a save sends the whole view and its events (issue 17). A newer row written
     * between the read and the save is still never replaced (save's version guard).
     */
    async saveUnlessCurrent(view: OrderView): Promise<void> {
      const found = await pool.query<{ version: number }>('SELECT version FROM orders.orders WHERE order_id = $1', [view.orderId]);
      if ((found.rows[0]?.version ?? 0) >= view.version) return;
      await projection.save(view);
    },

    async get(orderId: string): Promise<OrderView | undefined> {
      const found = await pool.query<{ view: OrderView }>('SELECT view FROM orders.orders WHERE order_id = $1', [orderId]);
      return found.rows[0]?.view;
    },

    /** The view and the address it ships to, read together (one statement: both as of the same save). */
    async getWithAddress(orderId: string): Promise<{ view: OrderView; shippingAddress: ShippingAddress | undefined } | undefined> {
      const found = await pool.query<{ view: OrderView; order_address: Parameters<typeof orderAddressOf>[0] }>(
        `SELECT o.view, ${ORDER_ADDRESS_COLUMN('o.order_id')} FROM orders.orders o WHERE o.order_id = $1`,
        [orderId],
      );
      const row = found.rows[0];
      return row ? { view: row.view, shippingAddress: orderAddressOf(row.order_address) } : undefined;
    },

    /**
     * For the unpaid-orders cap, in one statement: whether this order is already projected (a retry is
     * never refused) and how many of the customer's orders are in `status`.
     */
    async existsAndCountByCustomer(orderId: string, customerId: string, status: string): Promise<{ exists: boolean; count: number }> {
      const found = await pool.query<{ cap: { exists: boolean; count: number } }>(`SELECT ${ORDER_EXISTS_AND_COUNT_JSON('$1', '$2', '$3')} AS cap`, [orderId, customerId, status]);
      return found.rows[0].cap;
    },

    async listByCustomer(customerId: string, options: { limit: number; status?: string }): Promise<OrderView[]> {
      const found = await pool.query<{ view: OrderView }>(
        `SELECT view FROM orders.orders WHERE customer_id = $1 AND ($2::text IS NULL OR status = $2)
         ORDER BY created_at DESC, order_id LIMIT $3`,
        [customerId, options.status ?? null, options.limit],
      );
      return found.rows.map((row) => row.view);
    },
  };
  return projection;
}

export type OrderProjection = ReturnType<typeof createOrderProjection>;
