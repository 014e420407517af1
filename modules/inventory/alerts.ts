import type { PoolClient } from 'pg';
import { domainEvent, writeEvents } from '../events/outbox';
import { DomainError } from '../shared/errors';
import type { InventoryContext } from './context';
import { alertIdSchema, type LowStockAlert } from './schemas';

interface AlertRow {
  id: string;
  sku_id: string;
  available: number;
  threshold: number;
  created_at: Date;
  acknowledged_at: Date | null;
}

function toAlert(row: AlertRow): LowStockAlert {
  return {
    id: row.id,
    skuId: row.sku_id,
    available: row.available,
    threshold: row.threshold,
    createdAt: row.created_at.toISOString(),
    acknowledgedAt: row.acknowledged_at ? row.acknowledged_at.toISOString() : null,
  };
}

export async function lowStockThreshold(client: PoolClient, skuId: string): Promise<number> {
  const found = await client.query<{ low_stock_threshold: number }>(
    'SELECT low_stock_threshold FROM inventory.sku_settings WHERE sku_id = $1',
    [skuId],
  );
  return found.rows[0]?.low_stock_threshold ?? 0;
}

/**
 * Opens an alert when available stock goes from at/above the SKU's threshold to below it. Alerting on
 * the crossing (not on every low reading) means an acknowledged alert stays quiet until stock has
 * recovered and fallen again. The partial unique index keeps one open alert per SKU; a second
 * crossing while one is open refreshes its numbers. A new alert writes its stock.low event in the
 * caller's transaction (the stock change that crossed the threshold), so it goes out once.
 */
export async function alertIfCrossedBelow(
  client: PoolClient,
  now: Date,
  skuId: string,
  level: { before: number; after: number; thresholdBefore?: number; threshold?: number },
): Promise<void> {
  const threshold = level.threshold ?? (await lowStockThreshold(client, skuId));
  const thresholdBefore = level.thresholdBefore ?? threshold;
  const wasLow = level.before < thresholdBefore;
  if (threshold === 0 || wasLow || level.after >= threshold) return;
  const alert = await client.query<{ id: string; opened: boolean }>(
    `INSERT INTO inventory.low_stock_alerts (sku_id, available, threshold, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (sku_id) WHERE acknowledged_at IS NULL
     DO UPDATE SET available = EXCLUDED.available, threshold = EXCLUDED.threshold
     RETURNING id, (xmax = 0) AS opened`,
    [skuId, level.after, threshold, now],
  );
  const { id, opened } = alert.rows[0];
  if (!opened) return;
  await writeEvents(client, [
    domainEvent({
      eventId: `stock-low:${id}`,
      type: 'stock.low',
      orderId: null,
      customerId: null,
      occurredAt: now,
      data: { alertId: String(id), skuId, available: level.after, threshold },
    }),
  ]);
}

export async function listLowStockAlerts(
  ctx: InventoryContext,
  options: { includeAcknowledged?: boolean } = {},
): Promise<LowStockAlert[]> {
  const found = await ctx.pool.query<AlertRow>(
    `SELECT id, sku_id, available, threshold, created_at, acknowledged_at FROM inventory.low_stock_alerts
     WHERE $1 OR acknowledged_at IS NULL ORDER BY created_at, id`,
    [options.includeAcknowledged === true],
  );
  return found.rows.map(toAlert);
}

/** Marks an alert seen; acknowledging it again changes nothing. */
export async function acknowledgeAlert(ctx: InventoryContext, alertId: string | number): Promise<LowStockAlert> {
  const id = alertIdSchema.parse(alertId);
  const updated = await ctx.pool.query<AlertRow>(
    `UPDATE inventory.low_stock_alerts SET acknowledged_at = COALESCE(acknowledged_at, $2) WHERE id = $1
     RETURNING id, sku_id, available, threshold, created_at, acknowledged_at`,
    [id, ctx.clock()],
  );
  if (updated.rowCount === 0) throw new DomainError('ALERT_NOT_FOUND', `low-stock alert ${id} does not exist`, { alertId: id });
  return toAlert(updated.rows[0]);
}
