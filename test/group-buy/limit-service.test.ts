import { createGroupBuyService, type GroupBuyService } from '../../modules/group-buy';
import { DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';

/** The per-user limit module against a real PostgreSQL: the guarded upsert, its keys and compensations. */
let env: TestEnv;
let groupBuy: GroupBuyService;
beforeAll(async () => {
  env = await createTestEnv();
  groupBuy = createGroupBuyService({ pool: env.pool });
});
afterAll(() => env.close());

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return (error as DomainError).code;
}

const take = (key: string, quantity = 1, campaignId = 'grp_campaign_a', customerId = 'mem_a') =>
  groupBuy.takeLimit({ idempotencyKey: key, campaignId, customerId, quantity, perUserLimit: 3 });

test('20 concurrent takes of one unit with limit 3: exactly 3 succeed, the rest are LIMIT_REACHED and record nothing', async () => {
  const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, index) => take(`ord_c${index}:group-limit`, 1, 'grp_concurrent')));
  const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
  expect(won).toHaveLength(3);
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') expect((outcome.reason as DomainError).code).toBe('LIMIT_REACHED');
  }
  expect(await groupBuy.holding({ campaignId: 'grp_concurrent', customerId: 'mem_a' })).toEqual({ units: 3 });
  const recorded = await env.pool.query(`SELECT count(*)::int AS n FROM group_buy.operations WHERE key LIKE 'ord_c%'`);
  expect(recorded.rows[0].n).toBe(3);
});

test('a take is idempotent by key; its compensation returns the units once; a compensated key is never taken again', async () => {
  const first = await take('ord_1:group-limit', 2);
  expect(first).toMatchObject({ quantity: 2, heldAfter: 2 });
  expect(await take('ord_1:group-limit', 2)).toEqual(first);
  expect(await codeOf(take('ord_2:group-limit', 2))).toBe('LIMIT_REACHED');
  expect(await codeOf(take('ord_2:group-limit', 4))).toBe('LIMIT_REACHED'); // more than the limit at once
  expect(await groupBuy.holding({ campaignId: 'grp_campaign_a', customerId: 'mem_a' })).toEqual({ units: 2 });
  // Another buyer and another campaign have limits of their own.
  await take('ord_3:group-limit', 3, 'grp_campaign_a', 'mem_b');
  await take('ord_4:group-limit', 3, 'grp_campaign_b', 'mem_a');

  expect(await groupBuy.returnLimit({ idempotencyKey: 'ord_1:group-limit' })).toMatchObject({ outcome: 'undone', result: { heldAfter: 0 } });
  expect(await groupBuy.returnLimit({ idempotencyKey: 'ord_1:group-limit' })).toMatchObject({ outcome: 'already' });
  expect(await groupBuy.holding({ campaignId: 'grp_campaign_a', customerId: 'mem_a' })).toEqual({ units: 0 });
  expect(await codeOf(take('ord_1:group-limit', 2))).toBe('ALREADY_COMPENSATED');
  // A compensation that ran before its take leaves a tombstone: the late take is refused.
  expect(await groupBuy.returnLimit({ idempotencyKey: 'ord_5:group-limit' })).toEqual({ outcome: 'nothing' });
  expect(await codeOf(take('ord_5:group-limit', 1))).toBe('ALREADY_COMPENSATED');
  expect(await groupBuy.holding({ campaignId: 'grp_campaign_a', customerId: 'mem_a' })).toEqual({ units: 0 });
});

test('forgetLimit (a join refused before any order existed) gives the units back and lets the same key take again', async () => {
  await take('ord_6:group-limit', 3, 'grp_campaign_c');
  expect(await groupBuy.forgetLimit({ idempotencyKey: 'ord_6:group-limit' })).toBe('undone');
  expect(await groupBuy.forgetLimit({ idempotencyKey: 'ord_6:group-limit' })).toBe('nothing');
  expect(await groupBuy.holding({ campaignId: 'grp_campaign_c', customerId: 'mem_a' })).toEqual({ units: 0 });
  expect(await take('ord_6:group-limit', 3, 'grp_campaign_c')).toMatchObject({ heldAfter: 3 });
  // A compensated take is not forgotten (its tombstone stays).
  await groupBuy.returnLimit({ idempotencyKey: 'ord_6:group-limit' });
  expect(await groupBuy.forgetLimit({ idempotencyKey: 'ord_6:group-limit' })).toBe('nothing');
});

test('the CHECK backs the guard: no row can hold more than its limit', async () => {
  await take('ord_7:group-limit', 1, 'grp_campaign_d');
  await expect(
    env.pool.query(`UPDATE group_buy.buyer_limits SET units = 4 WHERE campaign_id = 'grp_campaign_d' AND customer_id = 'mem_a'`),
  ).rejects.toThrow(/check constraint/);
});
