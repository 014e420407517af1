import type { PoolClient } from 'pg';
import { DomainError } from '../shared/errors';
import { applyOnce, compensateOnce, sqlInteger, sqlText, sqlTimestamp, type CompensationOutcome } from '../shared/idempotency';
import { INVENTORY_LOG, type InventoryContext } from './context';
import { recordShipment } from './shipments';
import {
  allocateCampaignStockSchema,
  commitCampaignStockSchema,
  compensationSchema,
  reserveCampaignStockSchema,
  campaignIdSchema,
  skuIdSchema,
  type AllocateCampaignStockInput,
  type CampaignReservation,
  type CampaignStock,
  type CommitCampaignStockInput,
  type CompensationInput,
  type ReserveCampaignStockInput,
} from './schemas';

/*
 * Campaign stock (flash sales) is a pool of its own: `cap` units set aside for the campaign and not
 * counted in any warehouse's stock, so a sell-out of the campaign never touches normal stock and
 * normal orders never eat into the campaign. Units sold from it are shipped without a warehouse;
 * when they come back (restock) they join the normal stock of the first warehouse by priority.
 */

interface CampaignStockRow {
  campaign_id: string;
  sku_id: string;
  cap: number;
  reserved: number;
  sold: number;
}

function toCampaignStock(row: CampaignStockRow): CampaignStock {
  return {
    campaignId: row.campaign_id,
    skuId: row.sku_id,
    cap: row.cap,
    reserved: row.reserved,
    sold: row.sold,
    available: row.cap - row.reserved - row.sold,
  };
}

const CAMPAIGN_STOCK_COLUMNS = 'campaign_id, sku_id, cap, reserved, sold';

/** Sets the campaign's cap for a SKU (creating the pool); never below what is reserved or sold. */
export async function allocateCampaignStock(ctx: InventoryContext, input: AllocateCampaignStockInput): Promise<CampaignStock> {
  const { idempotencyKey, campaignId, skuId, cap } = allocateCampaignStockSchema.parse(input);
  return applyOnce(ctx.pool, INVENTORY_LOG, idempotencyKey, 'campaign-allocate', async (client) => {
    const saved = await client.query<CampaignStockRow>(
      `INSERT INTO inventory.campaign_stock (campaign_id, sku_id, cap, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (campaign_id, sku_id) DO UPDATE SET cap = EXCLUDED.cap, updated_at = EXCLUDED.updated_at
       WHERE inventory.campaign_stock.reserved + inventory.campaign_stock.sold <= EXCLUDED.cap
       RETURNING ${CAMPAIGN_STOCK_COLUMNS}`,
      [campaignId, skuId, cap, ctx.clock()],
    );
    if (saved.rowCount === 0) {
      const current = await findCampaignStock(client, campaignId, skuId);
      throw new DomainError('CAMPAIGN_CAP_BELOW_USED', `campaign ${campaignId}, SKU ${skuId}: cap ${cap} is below the units reserved or sold`, {
        campaignId,
        skuId,
        cap,
        reserved: current?.reserved,
        sold: current?.sold,
      });
    }
    return toCampaignStock(saved.rows[0]);
  });
}

async function findCampaignStock(client: PoolClient | InventoryContext['pool'], campaignId: string, skuId: string) {
  const found = await client.query<CampaignStockRow>(
    `SELECT ${CAMPAIGN_STOCK_COLUMNS} FROM inventory.campaign_stock WHERE campaign_id = $1 AND sku_id = $2`,
    [campaignId, skuId],
  );
  return found.rows[0] ? toCampaignStock(found.rows[0]) : undefined;
}

export async function getCampaignStock(ctx: InventoryContext, campaignId: string, skuId: string): Promise<CampaignStock> {
  const found = await findCampaignStock(ctx.pool, campaignIdSchema.parse(campaignId), skuIdSchema.parse(skuId));
  if (!found) throw campaignStockNotFound(campaignId, skuId);
  return found;
}

function campaignStockNotFound(campaignId: string, skuId: string): DomainError {
  return new DomainError('CAMPAIGN_STOCK_NOT_FOUND', `campaign ${campaignId} has no stock of SKU ${skuId}`, { campaignId, skuId });
}

/** SQLSTATE of inventory.expect_campaign_taken's refusal (migration 0950). */
const TOO_LITTLE_LEFT = 'IVSLD';

/**
 * Takes units from the campaign pool with one conditional update: parallel buyers cannot oversell.
 * The update and the reservation's row go with the stored result and COMMIT (finishWith): two round
 * trips, and the pool's row, which every buyer of a flash sale takes, is locked only while
 * PostgreSQL runs the last one (before, from the update through two more round trips). Too little
 * left rolls everything back (inventory.expect_campaign_taken) and is answered CAMPAIGN_SOLD_OUT with
 * what is left, read after.
 */
export async function reserveCampaignStock(ctx: InventoryContext, input: ReserveCampaignStockInput): Promise<CampaignReservation> {
  const { idempotencyKey, campaignId, skuId, quantity, orderId } = reserveCampaignStockSchema.parse(input);
  try {
    return await applyOnce(ctx.pool, INVENTORY_LOG, idempotencyKey, 'campaign-reserve', async (_client, _opened, _then, finishWith) => {
      const [now, campaign, sku, units] = [sqlTimestamp(ctx.clock()), sqlText(campaignId), sqlText(skuId), sqlInteger(quantity)];
      finishWith(
        `WITH taken AS (
           UPDATE inventory.campaign_stock SET reserved = reserved + ${units}, updated_at = ${now}
           WHERE campaign_id = ${campaign} AND sku_id = ${sku} AND cap - reserved - sold >= ${units} RETURNING 1),
         recorded AS (
           INSERT INTO inventory.campaign_reservations (key, campaign_id, sku_id, order_id, quantity, created_at)
           SELECT ${sqlText(idempotencyKey)}, ${campaign}, ${sku}, ${sqlText(orderId)}, ${units}, ${now} FROM taken RETURNING 1)
         SELECT inventory.expect_campaign_taken(${campaign}, ${sku}, (SELECT count(*) FROM recorded))`,
      );
      return { reservationKey: idempotencyKey, campaignId, skuId, orderId, quantity };
    });
  } catch (error) {
    if ((error as { code?: string } | undefined)?.code !== TOO_LITTLE_LEFT) throw error;
    const current = await findCampaignStock(ctx.pool, campaignId, skuId);
    if (!current) throw campaignStockNotFound(campaignId, skuId);
    throw new DomainError('CAMPAIGN_SOLD_OUT', `campaign ${campaignId}, SKU ${skuId}: ${quantity} requested, ${current.available} left`, {
      campaignId,
      skuId,
      requested: quantity,
      available: current.available,
    });
  }
}

interface CampaignReservationRow {
  campaign_id: string;
  sku_id: string;
  order_id: string;
  quantity: number;
  status: 'RESERVED' | 'RELEASED' | 'COMMITTED';
}

async function lockCampaignReservation(client: PoolClient, key: string) {
  const found = await client.query<CampaignReservationRow>(
    `SELECT campaign_id, sku_id, order_id, quantity, status FROM inventory.campaign_reservations WHERE key = $1 FOR UPDATE`,
    [key],
  );
  return found.rows[0];
}

function toReservation(key: string, row: CampaignReservationRow): CampaignReservation {
  return { reservationKey: key, campaignId: row.campaign_id, skuId: row.sku_id, orderId: row.order_id, quantity: row.quantity };
}

/** Compensation of `reserveCampaignStock` (same key): the units go back to the campaign pool. */
export async function releaseCampaignStock(
  ctx: InventoryContext,
  input: CompensationInput,
): Promise<CompensationOutcome<CampaignReservation>> {
  const { idempotencyKey } = compensationSchema.parse(input);
  return compensateOnce(ctx.pool, INVENTORY_LOG, idempotencyKey, 'campaign-reserve', async (client) => {
    const reservation = await lockCampaignReservation(client, idempotencyKey);
    if (!reservation) throw new Error(`campaign reservation ${idempotencyKey} is recorded as applied but has no row`);
    if (reservation.status === 'COMMITTED') {
      throw new DomainError('RESERVATION_COMMITTED', `campaign reservation ${idempotencyKey} was shipped and cannot be released`, {
        reservationKey: idempotencyKey,
      });
    }
    const now = ctx.clock();
    await client.query(
      `UPDATE inventory.campaign_stock SET reserved = reserved - $3, updated_at = $4 WHERE campaign_id = $1 AND sku_id = $2`,
      [reservation.campaign_id, reservation.sku_id, reservation.quantity, now],
    );
    await client.query(`UPDATE inventory.campaign_reservations SET status = 'RELEASED', released_at = $2 WHERE key = $1`, [idempotencyKey, now]);
    return toReservation(idempotencyKey, reservation);
  });
}

/**
 * At shipment: reserved campaign units become sold, recorded for the order so a return can restock
 * them. The pool's and the reservation's updates go with the stored result and COMMIT (finishWith):
 * the pool's row is locked only while PostgreSQL runs that last round trip.
 */
export async function commitCampaignStock(ctx: InventoryContext, input: CommitCampaignStockInput): Promise<CampaignReservation> {
  const { idempotencyKey, reservationKey } = commitCampaignStockSchema.parse(input);
  return applyOnce(ctx.pool, INVENTORY_LOG, idempotencyKey, 'campaign-commit', async (client, _opened, _then, finishWith) => {
    const reservation = await lockCampaignReservation(client, reservationKey);
    if (!reservation) {
      throw new DomainError('RESERVATION_NOT_FOUND', `no campaign stock reservation ${reservationKey}`, { reservationKey });
    }
    if (reservation.status !== 'RESERVED') {
      throw new DomainError(`RESERVATION_${reservation.status}`, `campaign reservation ${reservationKey} was already ${reservation.status.toLowerCase()}`, {
        reservationKey,
        status: reservation.status,
      });
    }
    await recordShipment(client, reservation.order_id, { skuId: reservation.sku_id, warehouseId: null, quantity: reservation.quantity });
    const [now, units] = [sqlTimestamp(ctx.clock()), sqlInteger(reservation.quantity)];
    finishWith(
      `UPDATE inventory.campaign_stock SET reserved = reserved - ${units}, sold = sold + ${units}, updated_at = ${now}
       WHERE campaign_id = ${sqlText(reservation.campaign_id)} AND sku_id = ${sqlText(reservation.sku_id)}`,
    );
    finishWith(`UPDATE inventory.campaign_reservations SET status = 'COMMITTED', committed_at = ${now} WHERE key = ${sqlText(reservationKey)}`);
    return toReservation(reservationKey, reservation);
  });
}
