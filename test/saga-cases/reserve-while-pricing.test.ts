import { eventually } from '../support/api-server';
import { recordHistory } from '../support/histories';
import { useCase } from './kit';

/**
 * Placement (patch reserve-while-pricing): an order without a coupon or points reserves its stock
 * while it is priced, not after (the buyer waits for one local activity less). With a coupon or
 * points the quote may refuse, so the stock is reserved only once it accepted: a refused order never
 * holds the last unit from another buyer. Pricing is held up here by a lock on the promotions table
 * (the API's own checks before the run do not read it), and the stock shows which came first.
 */
jest.setTimeout(90_000);

const kit = useCase();

/** Places the order while promotions cannot be read; returns the stock seen meanwhile and the answer. */
async function placeWhilePricingWaits(memberId: string, body: object, skuId: string) {
  const locker = await kit.env().pool.connect();
  let placed: Promise<Awaited<ReturnType<typeof kit.placeOrder>>> | undefined;
  let reservedMeanwhile: number;
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE marketing.promotions IN ACCESS EXCLUSIVE MODE');
    placed = Promise.resolve(kit.placeOrder(memberId, body)); // sent now (a supertest request goes when awaited)
    // The run has started and pricing waits on the lock: its placement row (or its stock) is there.
    await eventually(async () => {
      const { rows } = await kit.env().pool.query(`SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'promotions' AND NOT l.granted`);
      return rows.length > 0 ? true : undefined;
    }, 20_000, 'pricing to wait on the promotions lock');
    await new Promise((resolve) => setTimeout(resolve, 500)); // time for a reservation made beside it to commit
    reservedMeanwhile = (await kit.stock(skuId)).reserved;
  } finally {
    await locker.query('ROLLBACK');
    locker.release();
  }
  const answer = await placed!;
  return { reservedMeanwhile, answer };
}

test('without a coupon or points the stock is reserved while the order is priced; placed as before', async () => {
  const { skuId, memberId } = await kit.shop();
  const { reservedMeanwhile, answer } = await placeWhilePricingWaits(memberId, { lines: [{ skuId, quantity: 2 }] }, skuId);
  expect(reservedMeanwhile).toBe(2);
  expect(answer.status).toBe(201);
  expect(answer.body).toMatchObject({ status: 'PENDING_PAYMENT', totals: { payableFen: 20_000 } });
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 2, available: 8 });
  await recordHistory(kit.env(), answer.body.orderId, 'standard-reserved-while-pricing-running', { running: true });
});

test('with a coupon the stock waits for the quote; a quote that refuses leaves nothing held', async () => {
  const { skuId, memberId, couponId } = await kit.shop();
  const { reservedMeanwhile, answer } = await placeWhilePricingWaits(memberId, { lines: [{ skuId, quantity: 1 }], couponId }, skuId);
  expect(reservedMeanwhile).toBe(0);
  expect(answer.status).toBe(201);
  expect(answer.body.totals).toMatchObject({ couponDiscountFen: 2_000, payableFen: 8_000 });
  expect(await kit.stock(skuId)).toMatchObject({ reserved: 1 });

  // 6,000 points on a 100-yuan order: more than half of it, refused by the quote before any hold.
  const refused = await kit.placeOrder(memberId, { lines: [{ skuId, quantity: 1 }], pointsToRedeem: 6_000 });
  expect(refused.status).toBe(422);
  expect(refused.body.reason).toBe('TOO_MANY_POINTS');
  expect(await kit.stock(skuId)).toMatchObject({ reserved: 1 });
});

test('out of stock while pricing: the order is rejected with the reservation’s reason, nothing held', async () => {
  const { skuId, memberId } = await kit.shop({ stock: 1 });
  const refused = await kit.placeOrder(memberId, { lines: [{ skuId, quantity: 2 }] });
  expect(refused.status).toBe(422);
  expect(refused.body.reason).toBe('OUT_OF_STOCK');
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 1, reserved: 0 });
  const rejected = await kit.getOrder(memberId, refused.body.orderId);
  expect(rejected.status).toBe('REJECTED');
  expect(rejected.rejection?.code).toBe('OUT_OF_STOCK');
  await recordHistory(kit.env(), refused.body.orderId, 'standard-out-of-stock-while-pricing');
});
