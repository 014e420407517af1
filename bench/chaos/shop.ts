import type { Pool } from 'pg';
import { addFullReduction, addMember, addSku, issueAmountOffCoupon } from '../../test/support/fixtures';
import type { ApiClient } from './client';

/**
 * The shop the chaos run sells from, set up through the modules' own services (as the saga tests do)
 * and the admin API; what it put on hand is written to chaos.received, so the stock invariant can be
 * stated in SQL. The chaos schema is the run's own (never a migration of the engine).
 */
export const SKUS = {
  standardA: { id: 'sku_chaos_tea', priceFen: 12_800, onHand: 5_000 },
  standardB: { id: 'sku_chaos_cup', priceFen: 5_900, onHand: 5_000 },
  presale: { id: 'sku_chaos_presale', priceFen: 20_000, onHand: 3_000 },
  group: { id: 'sku_chaos_group', priceFen: 10_000, onHand: 3_000 },
  flash: { id: 'sku_chaos_flash', priceFen: 30_000, onHand: 200 },
} as const;

export const PRESALE_TERMS = { presalePriceFen: 15_000, depositFen: 3_000, depositValueFen: 5_000 };
export const GROUP_PRICE_FEN = 8_000;
export const FLASH = { campaignId: 'fs_chaos', priceFen: 9_900, perUserLimit: 2 };
export const MEMBER_POINTS = 2_000;

export async function createChaosSchema(pool: Pool): Promise<void> {
  await pool.query(`
    CREATE SCHEMA IF NOT EXISTS chaos;
    CREATE TABLE IF NOT EXISTS chaos.received (
      sku_id text NOT NULL, warehouse_id text NOT NULL, quantity integer NOT NULL, PRIMARY KEY (sku_id, warehouse_id));
    CREATE TABLE IF NOT EXISTS chaos.orders (
      order_id text PRIMARY KEY, scenario integer NOT NULL, order_type text NOT NULL, path text NOT NULL,
      member_id text NOT NULL, end_status text, expected text NOT NULL, error text);`);
}

export async function setUpShop(pool: Pool, api: ApiClient, flashCap: number): Promise<void> {
  await createChaosSchema(pool);
  for (const sku of Object.values(SKUS)) {
    await addSku(pool, sku.id, sku.priceFen, sku.onHand);
    await pool.query(
      `INSERT INTO chaos.received (sku_id, warehouse_id, quantity) VALUES ($1, 'wh_main', $2)
       ON CONFLICT (sku_id, warehouse_id) DO UPDATE SET quantity = EXCLUDED.quantity`,
      [sku.id, sku.onHand],
    );
  }
  await addFullReduction(pool, 'promo_chaos', [{ thresholdFen: 20_000, discountFen: 2_000 }]);
  const now = Date.now();
  const flash = await api.call('POST', '/admin/campaigns', { apiKey: 'admin' }, {
    id: FLASH.campaignId,
    kind: 'FLASH_SALE',
    name: 'Chaos flash sale',
    skuId: SKUS.flash.id,
    flashPriceFen: FLASH.priceFen,
    stockCap: flashCap,
    perUserLimit: FLASH.perUserLimit,
    perUserLimitUnit: 'UNITS',
    startsAt: new Date(now - 3_600_000).toISOString(),
    endsAt: new Date(now + 3 * 3_600_000).toISOString(),
  });
  if (flash.status !== 201 && flash.status !== 200) throw new Error(`flash-sale campaign: ${flash.status} ${JSON.stringify(flash.body)}`);
  const opened = await api.call('POST', `/flash-sales/${FLASH.campaignId}/open`, { apiKey: 'admin' }, {});
  if (opened.status !== 200) throw new Error(`open flash sale: ${opened.status} ${JSON.stringify(opened.body)}`);
}

/** A buyer of their own per scenario, with points and (optionally) a coupon of 10 yuan off 50. */
export async function newBuyer(pool: Pool, memberId: string, withCoupon: boolean): Promise<{ memberId: string; couponId?: string }> {
  await retryWhileDown(() => addMember(pool, memberId, MEMBER_POINTS));
  const couponId = withCoupon
    ? await retryWhileDown(() => issueAmountOffCoupon(pool, memberId, 1_000, { minSpendFen: 5_000, templateId: 'tpl_chaos_10_off_50' }))
    : undefined;
  return { memberId, couponId };
}

/** The run's own database calls ride out the PostgreSQL restart it causes (the services are idempotent). */
async function retryWhileDown<T>(work: () => Promise<T>, forMs = 60_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (Date.now() > deadline || !isConnectionError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  return ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '08003'].includes(code) || /terminat|Connection|connect/i.test(message);
}
