import type { Pool, PoolClient } from 'pg';
import { addDays, endOf, startOf, weekStart } from './days';

/**
 * 库存周报 per warehouse and SKU: on hand and reserved (a snapshot, taken while the week is current:
 * re-running a past week keeps the snapshot of its close and recounts only what was sold), units
 * sold (reservations committed in the week), turnover days (on hand / sold per day over 7 days),
 * and LOW (available at or under the SKU's threshold) or OUT (nothing available).
 */
const SOLD = `
  SELECT a.warehouse_id, a.sku_id, sum(a.quantity)::int AS sold
    FROM inventory.reservations r JOIN inventory.reservation_allocations a ON a.reservation_key = r.key
   WHERE r.status = 'COMMITTED' AND r.committed_at >= ${startOf('$2', '$4')} AND r.committed_at < ${endOf('$3', '$4')}
   GROUP BY a.warehouse_id, a.sku_id`;

export async function rollUpStock(client: PoolClient, week: string, zone: string, current: boolean): Promise<void> {
  const monday = weekStart(week);
  const params = [week, monday, addDays(monday, 6), zone];
  const existing = await client.query('SELECT 1 FROM reports.stock_weekly WHERE week = $1 LIMIT 1', [week]);
  if (current || existing.rowCount === 0) {
    await client.query('DELETE FROM reports.stock_weekly WHERE week = $1', [week]);
    await client.query(
      `WITH sold AS (${SOLD}),
       rows AS (
         SELECT COALESCE(s.warehouse_id, sold.warehouse_id) AS warehouse_id, COALESCE(s.sku_id, sold.sku_id) AS sku_id,
                COALESCE(s.on_hand, 0) AS on_hand, COALESCE(s.reserved, 0) AS reserved, COALESCE(sold.sold, 0) AS sold
           FROM inventory.stock s FULL JOIN sold ON sold.warehouse_id = s.warehouse_id AND sold.sku_id = s.sku_id)
       INSERT INTO reports.stock_weekly (week, warehouse_id, sku_id, on_hand, reserved, sold, turnover_days, stock_status, rolled_up_at)
       SELECT $1, rows.warehouse_id, rows.sku_id, on_hand, reserved, sold,
              CASE WHEN sold = 0 THEN NULL ELSE round(on_hand * 7.0 / sold, 1) END,
              CASE WHEN on_hand - reserved <= 0 THEN 'OUT'
                   WHEN on_hand - reserved <= COALESCE(t.low_stock_threshold, 0) THEN 'LOW' ELSE 'OK' END,
              now()
         FROM rows LEFT JOIN inventory.sku_settings t ON t.sku_id = rows.sku_id`,
      params,
    );
    return;
  }
  await client.query(
    `WITH sold AS (${SOLD})
     UPDATE reports.stock_weekly w SET sold = counted.sold,
            turnover_days = CASE WHEN counted.sold = 0 THEN NULL ELSE round(w.on_hand * 7.0 / counted.sold, 1) END
       FROM (SELECT kept.warehouse_id, kept.sku_id, COALESCE(sold.sold, 0) AS sold
               FROM reports.stock_weekly kept LEFT JOIN sold ON sold.warehouse_id = kept.warehouse_id AND sold.sku_id = kept.sku_id
              WHERE kept.week = $1) counted
      WHERE w.week = $1 AND counted.warehouse_id = w.warehouse_id AND counted.sku_id = w.sku_id`,
    params,
  );
}

export interface StockRow {
  warehouseId: string;
  skuId: string;
  onHand: number;
  reserved: number;
  sold: number;
  turnoverDays: number | null;
  status: 'OK' | 'LOW' | 'OUT';
}

export async function readStock(pool: Pool, week: string): Promise<{ week: string; rows: StockRow[]; lowStock: StockRow[]; outOfStock: StockRow[] }> {
  const found = await pool.query('SELECT * FROM reports.stock_weekly WHERE week = $1 ORDER BY warehouse_id, sku_id', [week]);
  const rows: StockRow[] = found.rows.map((row) => ({
    warehouseId: row.warehouse_id,
    skuId: row.sku_id,
    onHand: row.on_hand,
    reserved: row.reserved,
    sold: row.sold,
    turnoverDays: row.turnover_days === null ? null : Number(row.turnover_days),
    status: row.stock_status,
  }));
  return { week, rows, lowStock: rows.filter((row) => row.status === 'LOW'), outOfStock: rows.filter((row) => row.status === 'OUT') };
}
