import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { addMember, addSku } from '../../test/support/fixtures';
import { orderWorkflowId } from '../../workflows/order/definitions';
import { sleep, type ApiClient, type Answer } from '../chaos/client';

/**
 * One order of bench/orders, driven end to end through the HTTP API as the storefront, the sandbox pay
 * page, the warehouse and the carrier do: placed (timed: the placement answer), paid, shipped,
 * delivered, then its workflow's end (timed: the order's life). Variants: the order types, and a
 * partial refund before shipment (`--refunds`: request, support approves, refunded, then shipped).
 */
export type Variant = 'standard' | 'presale' | 'group-buy' | 'flash-sale';

export const BENCH_SKU = { id: 'sku_bench_tea', priceFen: 12_800 };
export const FLASH_CAMPAIGN = 'fs_bench';
/** Presale: the final payment window opens this long after the deposit campaign is made. */
export const PRESALE_FINAL_IN_MS = 2_000;

export interface Timed {
  /** Workflow ids this unit completed (group-buy: leader and partner). */
  workflowIds: string[];
  placementMs: number;
  lifeMs: number[];
}

export interface DriveContext {
  api: ApiClient;
  pool: Pool;
  temporal: Client;
  variant: Variant;
  refunds: boolean;
  runId: string;
}

export async function setUpBenchShop(pool: Pool, api: ApiClient, flashCap: number): Promise<void> {
  await addSku(pool, BENCH_SKU.id, BENCH_SKU.priceFen, 10_000_000);
  const now = Date.now();
  const flash = await api.call('POST', '/admin/campaigns', { apiKey: 'admin' }, {
    id: FLASH_CAMPAIGN, kind: 'FLASH_SALE', name: 'Bench flash sale', skuId: BENCH_SKU.id, flashPriceFen: 9_900,
    stockCap: flashCap, perUserLimit: 2, perUserLimitUnit: 'UNITS',
    startsAt: new Date(now - 3_600_000).toISOString(), endsAt: new Date(now + 6 * 3_600_000).toISOString(),
  });
  expect('flash-sale campaign', flash, 201, 200);
  expect('open flash sale', await api.call('POST', `/flash-sales/${FLASH_CAMPAIGN}/open`, { apiKey: 'admin' }, {}), 200);
}

/** Buyers are made before a round starts (not timed): one per order, so no per-buyer limit interferes. */
export async function makeBuyers(pool: Pool, ids: string[]): Promise<void> {
  for (const id of ids) await addMember(pool, id, 0);
}

function expect(step: string, answer: Answer, ...statuses: number[]): Answer {
  if (!statuses.includes(answer.status)) throw new Error(`${step}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  return answer;
}

/** Polls the order's projection (PostgreSQL, not Temporal) until its status is one of `statuses`. */
async function waitStatus(pool: Pool, orderId: string, statuses: string[], check?: (view: any) => boolean, timeoutMs = 300_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  while (Date.now() < deadline) {
    const found = await pool.query<{ status: string; view: any }>('SELECT status, view FROM orders.orders WHERE order_id = $1', [orderId]);
    last = found.rows[0]?.status;
    if (last && statuses.includes(last) && (!check || check(found.rows[0].view))) return found.rows[0].view;
    await sleep(100);
  }
  throw new Error(`order ${orderId}: waited for ${statuses.join('|')}, last ${last ?? 'none'}`);
}

async function waitRequest(pool: Pool, requestId: string, statuses: string[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const found = await pool.query<{ status: string }>('SELECT status FROM after_sales.refund_requests WHERE request_id = $1', [requestId]);
    if (statuses.includes(found.rows[0]?.status)) return;
    await sleep(100);
  }
  throw new Error(`refund ${requestId}: waited for ${statuses.join('|')}`);
}

/** Drives one unit (one order; group-buy: a group of two) from placement to its workflows' end. */
export async function driveOne(ctx: DriveContext, n: number, buyer: string): Promise<Timed> {
  const { api, pool } = ctx;
  const as = { customer: buyer };
  const key = `bench-${ctx.runId}-${n}`;
  const started = Date.now();
  const quantity = ctx.refunds ? 2 : 1;
  let placed: Answer;
  let partner: { orderId: string; intentId: string; started: number } | undefined;

  switch (ctx.variant) {
    case 'standard':
      placed = expect('place', await api.call('POST', '/orders', as, { lines: [{ skuId: BENCH_SKU.id, quantity }] }, { 'Idempotency-Key': key }), 201);
      break;
    case 'flash-sale': {
      placed = expect('flash-sale admission', await api.call('POST', `/flash-sales/${FLASH_CAMPAIGN}/orders`, as, { quantity }, { 'Idempotency-Key': key }), 201, 200, 202);
      if (placed.status === 202) placed = { status: 201, body: await waitStatus(pool, placed.body.orderId, ['PENDING_PAYMENT']) };
      break;
    }
    case 'presale': {
      const campaignId = `ps_bench_${ctx.runId}_${n}`;
      const now = Date.now();
      const finalStart = now + PRESALE_FINAL_IN_MS;
      expect('presale campaign', await api.call('POST', '/admin/campaigns', { apiKey: 'admin' }, {
        id: campaignId, kind: 'PRESALE', name: `Bench presale ${n}`, skuId: BENCH_SKU.id,
        presalePriceFen: 15_000, depositFen: 3_000, depositValueFen: 5_000,
        depositStart: new Date(now - 60_000).toISOString(), depositEnd: new Date(finalStart).toISOString(),
        finalStart: new Date(finalStart).toISOString(), finalEnd: new Date(finalStart + 600_000).toISOString(), depositRefundable: false,
      }), 201, 200);
      const t = Date.now();
      placed = expect('presale deposit', await api.call('POST', `/presales/${campaignId}/orders`, as, { quantity }, { 'Idempotency-Key': key }), 201, 200);
      return finishPresale(ctx, placed, buyer, t);
    }
    case 'group-buy': {
      const campaignId = `gb_bench_${ctx.runId}_${n}`;
      expect('group-buy campaign', await api.call('POST', '/admin/campaigns', { apiKey: 'admin' }, {
        id: campaignId, kind: 'GROUP_BUY', name: `Bench group ${n}`, skuId: BENCH_SKU.id, groupPriceFen: 8_000, groupSize: 2,
        perUserLimit: 5, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      }), 201, 200);
      const t = Date.now();
      placed = expect('group leader', await api.call('POST', `/group-buys/${campaignId}/orders`, as, { quantity }, { 'Idempotency-Key': key }), 201, 200);
      const placementMs = Date.now() - t;
      const pt = Date.now();
      const joined = expect('group partner', await api.call('POST', `/group-buys/${campaignId}/orders`, { customer: `${buyer}_p` }, { quantity: 1, groupId: placed.body.group?.groupId }, { 'Idempotency-Key': `${key}-p` }), 201, 200);
      partner = { orderId: joined.body.orderId, intentId: joined.body.payment?.intentId, started: pt };
      const lives = await Promise.all([
        payShipDeliver(ctx, placed.body.orderId, placed.body.payment?.intentId, t, (view) => view.group?.outcome === 'SUCCEEDED'),
        payShipDeliver(ctx, partner.orderId, partner.intentId, partner.started, (view) => view.group?.outcome === 'SUCCEEDED', false),
      ]);
      return { workflowIds: [orderWorkflowId(placed.body.orderId), orderWorkflowId(partner.orderId)], placementMs, lifeMs: lives };
    }
  }
  const placementMs = Date.now() - started;
  const life = await payShipDeliver(ctx, placed.body.orderId, placed.body.payment?.intentId, started);
  return { workflowIds: [orderWorkflowId(placed.body.orderId)], placementMs, lifeMs: [life] };
}

async function finishPresale(ctx: DriveContext, placed: Answer, buyer: string, started: number): Promise<Timed> {
  const placementMs = Date.now() - started;
  const orderId = placed.body.orderId;
  expect('pay deposit', await ctx.api.call('POST', `/sandbox/intents/${placed.body.payment?.intentId}/pay`, 'anonymous', {}), 200);
  await waitStatus(ctx.pool, orderId, ['FINAL_PAYMENT_DUE']);
  const final = expect('final payment', await ctx.api.call('POST', `/orders/${orderId}/final-payment`, { customer: buyer }, {}), 200);
  const life = await payShipDeliver(ctx, orderId, final.body.presale?.finalPayment?.intentId, started);
  return { workflowIds: [orderWorkflowId(orderId)], placementMs, lifeMs: [life] };
}

/** Pay at the sandbox page, (refund one unit,) ship, deliver, wait for the workflow's end; the life in ms. */
export async function payShipDeliver(ctx: DriveContext, orderId: string, intentId: string | undefined, started: number, paidWhen?: (view: any) => boolean, refundable = true): Promise<number> {
  const { api, pool } = ctx;
  if (!intentId) throw new Error(`order ${orderId}: no payment intent`);
  expect('pay', await api.call('POST', `/sandbox/intents/${intentId}/pay`, 'anonymous', {}), 200);
  const paid = await waitStatus(pool, orderId, ['PAID'], paidWhen);
  if (ctx.refunds && refundable) {
    const answer = expect('request refund', await api.call('POST', `/orders/${orderId}/refunds`, { customer: paid.customerId }, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'bench: one too many' }, { 'Idempotency-Key': `${orderId}-rf` }), 201, 200);
    const requestId = answer.body.requestId;
    await waitRequest(pool, requestId, ['PENDING']);
    expect('approve refund', await api.call('POST', `/support/refunds/${requestId}/approve`, { apiKey: 'support' }, {}), 200);
    await waitRequest(pool, requestId, ['REFUNDED']);
  }
  for (let attempt = 0; ; attempt += 1) {
    const shipped = await api.call('POST', `/warehouse/orders/${orderId}/ship`, { apiKey: 'warehouse' }, { carrier: 'SF Express', trackingNumber: `SF-${orderId}` });
    if (shipped.status === 200) break;
    // The order's own view of a just-refunded request may lag a moment (409 naming it): ask again.
    if (shipped.status !== 409 || attempt > 50) expect('ship', shipped, 200);
    await sleep(100);
  }
  expect('deliver', await api.call('POST', `/carrier/orders/${orderId}/delivered`, { apiKey: 'carrier' }, {}), 200, 409);
  await ctx.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
  return Date.now() - started;
}
