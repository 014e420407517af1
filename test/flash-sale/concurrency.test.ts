import { createFlashSaleService } from '../../modules/flash-sale';
import { customerAuth } from '../support/api';
import { eventually, type TestApi } from '../support/api-server';
import { services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { addFlashCampaign, addMember, startFlashApi } from './support';

/**
 * The acceptance case of issue 5: 2,000 flash-sale attempts by 400 buyers (limit 2 units each) for
 * 100 units, through the real API over loopback HTTP, 50 at a time. Exactly 100 units are admitted,
 * no buyer holds more than 2, every admitted unit has exactly one order workflow (Temporal visibility
 * and describe()), and the losers got 409 without any workflow. The payment timeout is long here, so
 * no unit comes back during the run.
 */
let env: TestEnv;
let api: TestApi;

const UNITS = 100;
const BUYERS = 400;
const ATTEMPTS = 2_000;
const CONCURRENCY = 50;
const LIMIT = 2;

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker({ maxConcurrentActivityTaskExecutions: 50 });
  api = await startFlashApi(env, { paymentMs: 10 * 60_000 });
});
afterAll(async () => {
  // The admitted orders are still waiting for payment: cancel them so nothing lingers on the server.
  const flashSale = createFlashSaleService({ pool: env.pool });
  const admissions = await flashSale.listAdmissions(campaignId);
  await Promise.all(admissions.map((admission) => env.temporal.workflow.getHandle(`order-${admission.orderId}`).terminate('test over').catch(() => undefined)));
  await api.close();
  await env.close();
});

let campaignId = '';

// A correctness test under load, not a timed one: on a busy 2-core machine the 2,000 requests and 100 workflows take longer.
jest.setTimeout(180_000);

test('2,000 attempts by 400 buyers (limit 2) for 100 units: exactly 100 admitted, nobody over the limit, one workflow per admitted unit', async () => {
  ({ campaignId } = await addFlashCampaign(env, `fs_rush_${env.id}`, { stockCap: UNITS, perUserLimit: LIMIT }));
  const buyers = Array.from({ length: BUYERS }, (_, index) => `mem_rush_${index}_${env.id}`);
  for (const buyer of buyers) await addMember(env.pool, buyer);
  const tokens = new Map(buyers.map((buyer) => [buyer, customerAuth(buyer)]));

  // Each buyer tries 5 times; the attempts are interleaved so buyers race each other and themselves.
  const attempts = Array.from({ length: ATTEMPTS }, (_, index) => buyers[index % BUYERS]);
  const outcomes: { buyer: string; status: number; reason?: string; orderId?: string; orderStatus?: string }[] = [];
  let next = 0;
  const startedAt = Date.now();
  async function lane(): Promise<void> {
    while (next < attempts.length) {
      const buyer = attempts[next++];
      const response = await fetch(`${api.url}/flash-sales/${campaignId}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: tokens.get(buyer)! },
        body: JSON.stringify({ quantity: 1 }),
      });
      const body = (await response.json()) as { reason?: string; orderId?: string; status?: string };
      outcomes.push({ buyer, status: response.status, reason: body.reason, orderId: body.orderId, orderStatus: body.status });
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const elapsedMs = Date.now() - startedAt;

  expect(outcomes).toHaveLength(ATTEMPTS);
  const admitted = outcomes.filter((outcome) => outcome.status === 201);
  const refused = outcomes.filter((outcome) => outcome.status === 409);
  expect(admitted).toHaveLength(UNITS);
  expect(refused).toHaveLength(ATTEMPTS - UNITS);
  for (const outcome of refused) expect(['SOLD_OUT', 'LIMIT_REACHED']).toContain(outcome.reason);
  for (const outcome of admitted) expect(outcome.orderStatus).toBe('PENDING_PAYMENT');

  // PostgreSQL agrees: 100 units taken, 100 admissions, nobody over the limit, inventory's pool matches.
  const flashSale = createFlashSaleService({ pool: env.pool });
  expect(await flashSale.getCampaignState(campaignId)).toMatchObject({ cap: UNITS, taken: UNITS, remaining: 0 });
  const admissions = await flashSale.listAdmissions(campaignId);
  expect(admissions).toHaveLength(UNITS);
  expect(admissions.every((admission) => admission.status === 'ADMITTED' && admission.workflowStartedAt !== null)).toBe(true);
  const perBuyer = new Map<string, number>();
  for (const admission of admissions) perBuyer.set(admission.customerId, (perBuyer.get(admission.customerId) ?? 0) + admission.quantity);
  expect(Math.max(...perBuyer.values())).toBeLessThanOrEqual(LIMIT);
  const holdings = await env.pool.query<{ max: number; total: string }>(
    'SELECT max(units) AS max, sum(units) AS total FROM flash_sale.buyers WHERE campaign_id = $1',
    [campaignId],
  );
  expect(holdings.rows[0]).toMatchObject({ max: expect.any(Number), total: String(UNITS) });
  expect(holdings.rows[0].max).toBeLessThanOrEqual(LIMIT);
  expect(new Set(admitted.map((outcome) => outcome.orderId))).toEqual(new Set(admissions.map((admission) => admission.orderId)));
  const { inventory } = services(env.pool);
  expect(await inventory.getCampaignStock(campaignId, `sku_${campaignId}`)).toMatchObject({ cap: UNITS, reserved: UNITS, sold: 0 });

  // Temporal agrees: one flash-sale order workflow per admission, and none for anyone else.
  const descriptions = await Promise.all(admissions.map((admission) => env.temporal.workflow.getHandle(`order-${admission.orderId}`).describe()));
  expect(descriptions.every((description) => description.type === 'flashSaleOrderWorkflow' && description.status.name === 'RUNNING')).toBe(true);
  const visible = await eventually(async () => {
    const { count } = await env.temporal.workflow.count(`CampaignId = "${campaignId}"`);
    return count === UNITS ? count : undefined;
  }, 15_000, 'visibility of 100 workflows');
  expect(visible).toBe(UNITS);
  console.log(`flash-sale rush: ${ATTEMPTS} attempts at concurrency ${CONCURRENCY} in ${elapsedMs} ms`);
});
