import { ApplicationFailure } from '@temporalio/common';
import { createOrderActivities } from '../../activities/orders';
import { createPlacementActivities } from '../../activities/placement';
import { createMarketingService } from '../../modules/marketing/service';
import type { OrderView } from '../../workflows/order/definitions';
import { addMember, addSku, setFreightTemplate, TEST_ADDRESS } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * Placement's pricing in one local activity (`priceOrder`, patch fewer-steps-per-order) prices as the
 * three lookups it replaced: list prices (or a campaign's), promotions, coupon and points, then
 * freight of the goods after promotions and coupon; refusals keep their codes. And the projection
 * that shows a placed order keeps its address in the same statement, only a newer version replacing it.
 */
let env: TestEnv;
let placement: ReturnType<typeof createPlacementActivities>;

const SHANGHAI = { provinceCode: TEST_ADDRESS.provinceCode, cityCode: TEST_ADDRESS.cityCode, districtCode: TEST_ADDRESS.districtCode };

beforeAll(async () => {
  env = await createTestEnv();
  placement = createPlacementActivities({ pool: env.pool });
  await addSku(env.pool, 'sku_price_a', 12_000, 5, 1_500);
  await addSku(env.pool, 'sku_price_b', 3_000, 5, 500);
  await addMember(env.pool, 'mem_price', 1_000);
  // Freight by weight: first 1 kg 8 yuan, each further 500 g 2 yuan; free from 500 yuan of goods.
  await setFreightTemplate(env.pool, {
    templateId: 'tpl_price',
    name: 'by weight',
    basis: 'WEIGHT',
    firstUnits: 1_000,
    firstFen: 800,
    additionalUnits: 500,
    additionalFen: 200,
    freeOverFen: 50_000,
    regions: [{ regionCode: '540602', delivers: false }],
  });
  // 20 yuan off from 150 yuan.
  await createMarketingService({ pool: env.pool }).createPromotion({
    id: 'promo_price',
    name: '满150减20',
    tiers: [{ thresholdFen: 15_000, discountFen: 2_000 }],
    startsAt: new Date(Date.now() - 60_000),
    endsAt: new Date(Date.now() + 3_600_000),
  });
});
afterAll(async () => {
  await env.close();
});

test('list prices, the promotion, points and weight-based freight of the goods after discounts, to the fen', async () => {
  const priced = await placement.priceOrder({
    memberId: 'mem_price',
    lines: [
      { skuId: 'sku_price_a', quantity: 1 },
      { skuId: 'sku_price_b', quantity: 2 },
    ],
    pointsToRedeem: 500,
    destination: SHANGHAI,
  });
  expect(priced.quote.lines.map((line) => [line.lineId, line.unitPriceFen, line.listFen])).toEqual([
    ['L1', 12_000, 12_000],
    ['L2', 3_000, 6_000],
  ]);
  expect(priced.quote.totals).toMatchObject({ listFen: 18_000, promotionDiscountFen: 2_000, couponDiscountFen: 0, pointsUsed: 500 });
  expect(priced.quote.totals.payableFen).toBe(18_000 - 2_000 - priced.quote.totals.pointsDiscountFen);
  // 1,500 + 2 × 500 = 2,500 g: 8 yuan + 3 further blocks of 500 g × 2 yuan.
  expect(priced.freight).toMatchObject({ freightFen: 1_400, freeShipping: false, templateId: 'tpl_price' });
});

test('a campaign price replaces the list price of its SKU only; no destination, no freight', async () => {
  const priced = await placement.priceOrder({
    memberId: 'mem_price',
    lines: [
      { skuId: 'sku_price_a', quantity: 1 },
      { skuId: 'sku_price_b', quantity: 1 },
    ],
    unitPriceFen: { sku_price_a: 9_900 },
  });
  expect(priced.quote.lines.map((line) => line.unitPriceFen)).toEqual([9_900, 3_000]);
  expect(priced.freight).toBeUndefined();
});

test('refusals keep the code of the lookup that refused: unknown SKU, undeliverable region; bad input is INVALID_INPUT', async () => {
  const refusal = (input: Parameters<typeof placement.priceOrder>[0]) =>
    placement.priceOrder(input).then(
      () => undefined,
      (error: unknown) => (error instanceof ApplicationFailure ? { type: error.type, nonRetryable: error.nonRetryable } : error),
    );
  expect(await refusal({ memberId: 'mem_price', lines: [{ skuId: 'sku_nowhere', quantity: 1 }] })).toEqual({ type: 'SKU_NOT_FOUND', nonRetryable: true });
  expect(
    await refusal({ memberId: 'mem_price', lines: [{ skuId: 'sku_price_a', quantity: 1 }], destination: { provinceCode: '540000', cityCode: '540600', districtCode: '540602' } }),
  ).toEqual({ type: 'REGION_NOT_DELIVERED', nonRetryable: true });
  expect(await refusal({ memberId: 'mem_price', lines: [{ skuId: 'sku_price_a', quantity: 1 }], unitPriceFen: { sku_price_a: -1 } })).toEqual({
    type: 'INVALID_INPUT',
    nonRetryable: true,
  });
  expect(await refusal({ memberId: 'mem_price', lines: [] })).toEqual({ type: 'INVALID_INPUT', nonRetryable: true });
});

test("the placed order's projection keeps its address in the same statement; an older version never replaces a newer one", async () => {
  const orders = createOrderActivities({ pool: env.pool });
  const at = new Date().toISOString();
  const view = {
    orderId: 'ord_price_address',
    customerId: 'mem_price',
    type: 'STANDARD',
    status: 'PENDING_PAYMENT',
    phase: 'AWAITING_PAYMENT',
    currency: 'CNY',
    lines: [],
    totals: { listFen: 0, promotionDiscountFen: 0, couponDiscountFen: 0, pointsDiscountFen: 0, payableFen: 0, pointsUsed: 0, paidFen: 0, refundedFen: 0 },
    timeline: [{ event: 'placed', at }],
    version: 3,
    deadlines: {},
  } as unknown as OrderView;
  const stored = async () =>
    (await env.pool.query('SELECT version, recipient, street FROM logistics.order_addresses WHERE order_id = $1', [view.orderId])).rows;

  await orders.projectOrder(view, { withAddress: { version: 1, address: TEST_ADDRESS } });
  expect(await stored()).toEqual([{ version: 1, recipient: TEST_ADDRESS.recipient, street: TEST_ADDRESS.street }]);
  expect((await env.pool.query('SELECT version FROM orders.orders WHERE order_id = $1', [view.orderId])).rows).toEqual([{ version: 3 }]);

  // The buyer's change (version 2) came first; a retried placement projection (version 1) changes nothing.
  await env.pool.query('UPDATE logistics.order_addresses SET version = 2, street = $2 WHERE order_id = $1', [view.orderId, '新地址 9 号']);
  await orders.projectOrder({ ...view, version: 4 }, { withAddress: { version: 1, address: TEST_ADDRESS } });
  expect(await stored()).toEqual([{ version: 2, recipient: TEST_ADDRESS.recipient, street: '新地址 9 号' }]);

  // An address that fails its schema is refused for good (not retried for ever), and nothing is written.
  const bad = await orders.projectOrder({ ...view, version: 5 }, { withAddress: { version: 3, address: { ...TEST_ADDRESS, mobile: 'call me' } } }).catch((error: unknown) => error);
  expect(bad).toBeInstanceOf(ApplicationFailure);
  expect((bad as ApplicationFailure).type).toBe('INVALID_INPUT');
  expect((await env.pool.query('SELECT version FROM orders.orders WHERE order_id = $1', [view.orderId])).rows).toEqual([{ version: 4 }]);
});
