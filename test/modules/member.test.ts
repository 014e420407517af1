import { ApplicationFailure } from '@temporalio/common';
import { createMemberActivities } from '../../activities/member';
import { createMemberService, type MemberService } from '../../modules/member';
import { maxRedeemablePoints, tierForSpend } from '../../modules/member/rules';
import { AlreadyCompensatedError, DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';
import { countRoundTrips } from '../support/round-trips';

let env: TestEnv;
let member: MemberService;
beforeAll(async () => {
  env = await createTestEnv();
  member = createMemberService({ pool: env.pool });
});
afterAll(() => env.close());

let sequence = 0;
/** A fresh member with `points` available, so tests do not share balances. */
async function newMember(points = 0): Promise<string> {
  const id = `mem_${++sequence}_${env.id}`;
  await member.createMember({ id, name: `Member ${sequence}` });
  if (points > 0) await member.grantPoints({ idempotencyKey: `${id}:welcome`, memberId: id, points, reason: 'welcome' });
  return id;
}

async function balances(memberId: string) {
  return (await member.getMember(memberId)).points;
}

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('rules', () => {
  test('tiers by completed spend: 0 / 1,000 / 5,000 / 20,000 yuan', () => {
    expect([0, 99_999, 100_000, 499_999, 500_000, 1_999_999, 2_000_000].map(tierForSpend)).toEqual([
      'BRONZE',
      'BRONZE',
      'SILVER',
      'SILVER',
      'GOLD',
      'GOLD',
      'PLATINUM',
    ]);
  });

  test('redemption: 1 point = 1 fen, at most half the order, at most what is available', () => {
    expect(maxRedeemablePoints(10_001, 1_000_000)).toBe(5_000);
    expect(maxRedeemablePoints(10_000, 1_234)).toBe(1_234);
    expect(maxRedeemablePoints(1, 100)).toBe(0);
    expect(maxRedeemablePoints(0, 100)).toBe(0);
  });
});

describe('members', () => {
  test('createMember is idempotent by id and starts BRONZE with empty balances', async () => {
    const id = `mem_alice_${env.id}`;
    const first = await member.createMember({ id, name: 'Alice' });
    const again = await member.createMember({ id, name: 'Alice' });
    expect(again).toEqual(first);
    expect(first).toMatchObject({ id, name: 'Alice', tier: 'BRONZE', completedSpendFen: 0, points: { available: 0, pending: 0, held: 0 } });
  });

  test('an unknown member is refused with MEMBER_NOT_FOUND', async () => {
    expect((await refusal(member.getMember('mem_nobody'))).code).toBe('MEMBER_NOT_FOUND');
    const hold = member.holdPoints({ idempotencyKey: 'nobody:hold', memberId: 'mem_nobody', orderId: 'ord_x', points: 1 });
    expect((await refusal(hold)).code).toBe('MEMBER_NOT_FOUND');
    // Operations that also lock the order's points row (sent with their claim) refuse the same way, and write nothing.
    const award = member.awardPendingPoints({ idempotencyKey: 'nobody:award', memberId: 'mem_nobody', orderId: 'ord_x', paidFen: 10_000 });
    expect((await refusal(award)).code).toBe('MEMBER_NOT_FOUND');
    const complete = member.completeOrderPoints({ idempotencyKey: 'nobody:complete', memberId: 'mem_nobody', orderId: 'ord_x', completedSpendFen: 10_000 });
    expect((await refusal(complete)).code).toBe('MEMBER_NOT_FOUND');
    const written = await env.pool.query(`SELECT count(*)::int AS n FROM member.order_points WHERE member_id = 'mem_nobody'`);
    expect(written.rows[0].n).toBe(0);
  });
});

describe('holding points at order placement', () => {
  test('hold moves available to held; twice with one key holds once', async () => {
    const id = await newMember(1_000);
    const input = { idempotencyKey: `ord_h1:hold-points`, memberId: id, orderId: 'ord_h1', points: 300 };
    const first = await member.holdPoints(input);
    const second = await member.holdPoints(input);
    expect(second).toEqual(first);
    expect(await balances(id)).toEqual({ available: 700, pending: 0, held: 300 });
    expect((await member.listPointsEntries(id)).filter((entry) => entry.kind === 'HOLD')).toHaveLength(1);
  });

  test('not enough points: INSUFFICIENT_POINTS with what is available, and nothing changes', async () => {
    const id = await newMember(100);
    const error = await refusal(member.holdPoints({ idempotencyKey: 'ord_h2:hold-points', memberId: id, orderId: 'ord_h2', points: 101 }));
    expect(error.code).toBe('INSUFFICIENT_POINTS');
    expect(error.details).toMatchObject({ available: 100, requested: 101 });
    expect(await balances(id)).toEqual({ available: 100, pending: 0, held: 0 });
  });

  test('release undoes the hold once; a second release is "already"; the forward after it is refused', async () => {
    const id = await newMember(500);
    const key = 'ord_h3:hold-points';
    await member.holdPoints({ idempotencyKey: key, memberId: id, orderId: 'ord_h3', points: 200 });
    expect(await member.releaseHeldPoints({ idempotencyKey: key })).toMatchObject({ outcome: 'undone', result: { points: 200 } });
    expect(await member.releaseHeldPoints({ idempotencyKey: key })).toMatchObject({ outcome: 'already' });
    expect(await balances(id)).toEqual({ available: 500, pending: 0, held: 0 });
    await expect(member.holdPoints({ idempotencyKey: key, memberId: id, orderId: 'ord_h3', points: 200 })).rejects.toBeInstanceOf(
      AlreadyCompensatedError,
    );
    expect(await balances(id)).toEqual({ available: 500, pending: 0, held: 0 });
  });

  test('release of a hold that never happened is a no-op that blocks a late hold', async () => {
    const id = await newMember(500);
    const key = 'ord_h4:hold-points';
    expect(await member.releaseHeldPoints({ idempotencyKey: key })).toEqual({ outcome: 'nothing' });
    await expect(member.holdPoints({ idempotencyKey: key, memberId: id, orderId: 'ord_h4', points: 10 })).rejects.toBeInstanceOf(
      AlreadyCompensatedError,
    );
    expect(await balances(id)).toEqual({ available: 500, pending: 0, held: 0 });
  });

  test('commit spends the held points once; a committed hold cannot be released; a released one cannot be committed', async () => {
    const id = await newMember(1_000);
    await member.holdPoints({ idempotencyKey: 'ord_c1:hold', memberId: id, orderId: 'ord_c1', points: 400 });
    const commit = { idempotencyKey: 'ord_c1:commit', holdKey: 'ord_c1:hold' };
    expect(await member.commitHeldPoints(commit)).toEqual({ memberId: id, orderId: 'ord_c1', points: 400, holdKey: 'ord_c1:hold' });
    await member.commitHeldPoints(commit);
    expect(await balances(id)).toEqual({ available: 600, pending: 0, held: 0 });
    expect((await refusal(member.releaseHeldPoints({ idempotencyKey: 'ord_c1:hold' }))).code).toBe('HOLD_NOT_ACTIVE');
    expect((await refusal(member.commitHeldPoints({ idempotencyKey: 'ord_c1:commit-again', holdKey: 'ord_c1:hold' }))).code).toBe(
      'HOLD_NOT_ACTIVE',
    );
    expect(await balances(id)).toEqual({ available: 600, pending: 0, held: 0 });

    await member.holdPoints({ idempotencyKey: 'ord_c2:hold', memberId: id, orderId: 'ord_c2', points: 100 });
    await member.releaseHeldPoints({ idempotencyKey: 'ord_c2:hold' });
    expect((await refusal(member.commitHeldPoints({ idempotencyKey: 'ord_c2:commit', holdKey: 'ord_c2:hold' }))).code).toBe(
      'HOLD_NOT_ACTIVE',
    );
    expect((await refusal(member.commitHeldPoints({ idempotencyKey: 'ord_c3:commit', holdKey: 'ord_c3:hold' }))).code).toBe(
      'HOLD_NOT_FOUND',
    );
    expect(await balances(id)).toEqual({ available: 600, pending: 0, held: 0 });
  });

  test('concurrency: 20 parallel holds of 100 on 1,000 points: exactly 10 succeed, balance never negative', async () => {
    const id = await newMember(1_000);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) =>
        member.holdPoints({ idempotencyKey: `ord_p${index}:hold`, memberId: id, orderId: `ord_p${index}`, points: 100 }),
      ),
    );
    const refused = results.filter((result) => result.status === 'rejected');
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
    expect(refused).toHaveLength(10);
    for (const result of refused) expect(((result as PromiseRejectedResult).reason as DomainError).code).toBe('INSUFFICIENT_POINTS');
    expect(await balances(id)).toEqual({ available: 0, pending: 0, held: 1_000 });
  });
});

describe('returning used points on refunds', () => {
  test('returns spent points once per key, never more than the order spent', async () => {
    const id = await newMember(1_000);
    await member.holdPoints({ idempotencyKey: 'ord_r1:hold', memberId: id, orderId: 'ord_r1', points: 600 });
    await member.commitHeldPoints({ idempotencyKey: 'ord_r1:commit', holdKey: 'ord_r1:hold' });
    const partial = { idempotencyKey: 'ord_r1:refund-1:points', memberId: id, orderId: 'ord_r1', points: 250 };
    expect(await member.returnUsedPoints(partial)).toMatchObject({ points: 250, returnedTotal: 250, spentTotal: 600 });
    await member.returnUsedPoints(partial);
    expect(await balances(id)).toEqual({ available: 650, pending: 0, held: 0 });

    const tooMany = await refusal(member.returnUsedPoints({ idempotencyKey: 'ord_r1:refund-2:points', memberId: id, orderId: 'ord_r1', points: 351 }));
    expect(tooMany.code).toBe('RETURN_EXCEEDS_USED');
    expect(tooMany.details).toMatchObject({ returnable: 350, requested: 351 });
    await member.returnUsedPoints({ idempotencyKey: 'ord_r1:refund-2:points', memberId: id, orderId: 'ord_r1', points: 350 });
    expect(await balances(id)).toEqual({ available: 1_000, pending: 0, held: 0 });
    const otherOrder = member.returnUsedPoints({ idempotencyKey: 'ord_r9:refund', memberId: id, orderId: 'ord_r9', points: 1 });
    expect((await refusal(otherOrder)).code).toBe('RETURN_EXCEEDS_USED');
  });
});

describe('earning points', () => {
  test('award: floor(paid yuan) pending, once per key; the rate comes from the deps', async () => {
    const id = await newMember();
    const award = { idempotencyKey: 'ord_a1:award', memberId: id, orderId: 'ord_a1', paidFen: 12_399 };
    expect(await member.awardPendingPoints(award)).toEqual({ memberId: id, orderId: 'ord_a1', points: 123, paidFen: 12_399 });
    await member.awardPendingPoints(award);
    expect(await balances(id)).toEqual({ available: 0, pending: 123, held: 0 });

    const doubleRate = createMemberService({ pool: env.pool, pointsPerYuan: 2 });
    await doubleRate.awardPendingPoints({ idempotencyKey: 'ord_a2:award', memberId: id, orderId: 'ord_a2', paidFen: 1_050 });
    expect(await balances(id)).toEqual({ available: 0, pending: 143, held: 0 });
  });

  test('revoke undoes an award once; empty revoke blocks a late award', async () => {
    const id = await newMember();
    await member.awardPendingPoints({ idempotencyKey: 'ord_v1:award', memberId: id, orderId: 'ord_v1', paidFen: 50_000 });
    expect(await member.revokePendingPoints({ idempotencyKey: 'ord_v1:award' })).toMatchObject({
      outcome: 'undone',
      result: { points: 500, fromPending: 500, fromAvailable: 0, shortfall: 0 },
    });
    expect(await member.revokePendingPoints({ idempotencyKey: 'ord_v1:award' })).toMatchObject({ outcome: 'already' });
    expect(await balances(id)).toEqual({ available: 0, pending: 0, held: 0 });
    await expect(
      member.awardPendingPoints({ idempotencyKey: 'ord_v1:award', memberId: id, orderId: 'ord_v1', paidFen: 50_000 }),
    ).rejects.toBeInstanceOf(AlreadyCompensatedError);

    expect(await member.revokePendingPoints({ idempotencyKey: 'ord_v2:award' })).toEqual({ outcome: 'nothing' });
    await expect(
      member.awardPendingPoints({ idempotencyKey: 'ord_v2:award', memberId: id, orderId: 'ord_v2', paidFen: 50_000 }),
    ).rejects.toBeInstanceOf(AlreadyCompensatedError);
    expect(await balances(id)).toEqual({ available: 0, pending: 0, held: 0 });
  });

  test('completion: pending → available, spend counted, tier recomputed; once per key, once per order', async () => {
    const id = await newMember();
    await member.awardPendingPoints({ idempotencyKey: 'ord_k1:award', memberId: id, orderId: 'ord_k1', paidFen: 120_000 });
    await member.awardPendingPoints({ idempotencyKey: 'ord_k2:award', memberId: id, orderId: 'ord_k2', paidFen: 30_000 });
    const complete = { idempotencyKey: 'ord_k1:complete', memberId: id, orderId: 'ord_k1', completedSpendFen: 120_000 };
    expect(await member.completeOrderPoints(complete)).toMatchObject({ points: 1_200, tier: 'SILVER' });
    await member.completeOrderPoints(complete);
    const after = await member.getMember(id);
    expect(after.points).toEqual({ available: 1_200, pending: 300, held: 0 });
    expect(after).toMatchObject({ completedSpendFen: 120_000, tier: 'SILVER' });
    const again = member.completeOrderPoints({ ...complete, idempotencyKey: 'ord_k1:complete-again' });
    expect((await refusal(again)).code).toBe('ORDER_ALREADY_COMPLETED');
    const lateAward = member.awardPendingPoints({ idempotencyKey: 'ord_k1:award-2', memberId: id, orderId: 'ord_k1', paidFen: 100 });
    expect((await refusal(lateAward)).code).toBe('ORDER_ALREADY_COMPLETED');
  });
});

describe('taking points back for refunds', () => {
  test('before completion: from that order\'s pending; capped at what the order earned; once per key', async () => {
    const id = await newMember(50);
    await member.awardPendingPoints({ idempotencyKey: 'ord_f1:award', memberId: id, orderId: 'ord_f1', paidFen: 30_000 });
    await member.awardPendingPoints({ idempotencyKey: 'ord_f2:award', memberId: id, orderId: 'ord_f2', paidFen: 10_000 });
    const refund = { idempotencyKey: 'ord_f1:refund-1', memberId: id, orderId: 'ord_f1', refundedFen: 12_050 };
    expect(await member.reversePointsForRefund(refund)).toMatchObject({
      targetPoints: 120,
      points: 120,
      fromPending: 120,
      fromAvailable: 0,
      shortfall: 0,
    });
    await member.reversePointsForRefund(refund);
    expect(await balances(id)).toEqual({ available: 50, pending: 280, held: 0 });
    // Only 180 of ord_f1's points are left to take back: the other order's pending stays untouched.
    const rest = await member.reversePointsForRefund({ idempotencyKey: 'ord_f1:refund-2', memberId: id, orderId: 'ord_f1', refundedFen: 30_000 });
    expect(rest).toMatchObject({ targetPoints: 300, points: 180, fromPending: 180, fromAvailable: 0, shortfall: 0 });
    expect(await balances(id)).toEqual({ available: 50, pending: 100, held: 0 });
  });

  test('after completion: from available, the spent rest is the shortfall; completed spend and tier drop', async () => {
    const id = await newMember();
    await member.awardPendingPoints({ idempotencyKey: 'ord_g1:award', memberId: id, orderId: 'ord_g1', paidFen: 600_000 });
    await member.completeOrderPoints({ idempotencyKey: 'ord_g1:complete', memberId: id, orderId: 'ord_g1', completedSpendFen: 600_000 });
    expect(await member.getMember(id)).toMatchObject({ tier: 'GOLD', points: { available: 6_000, pending: 0, held: 0 } });
    // The member spends 5,000 of the 6,000 points on another order.
    await member.holdPoints({ idempotencyKey: 'ord_g2:hold', memberId: id, orderId: 'ord_g2', points: 5_000 });
    await member.commitHeldPoints({ idempotencyKey: 'ord_g2:commit', holdKey: 'ord_g2:hold' });

    const result = await member.reversePointsForRefund({ idempotencyKey: 'ord_g1:refund', memberId: id, orderId: 'ord_g1', refundedFen: 200_000 });
    expect(result).toMatchObject({ points: 2_000, fromPending: 0, fromAvailable: 1_000, shortfall: 1_000, completedSpendReducedFen: 200_000, tier: 'SILVER' });
    expect(await member.getMember(id)).toMatchObject({ tier: 'SILVER', completedSpendFen: 400_000, points: { available: 0, pending: 0, held: 0 } });
    const entry = (await member.listPointsEntries(id)).find((candidate) => candidate.idempotencyKey === 'ord_g1:refund');
    expect(entry).toMatchObject({ kind: 'REVERSE_FOR_REFUND', deltaAvailable: -1_000, deltaPending: 0, shortfall: 1_000, orderId: 'ord_g1' });
  });
});

describe('activities', () => {
  test('a refusal becomes a non-retryable ApplicationFailure typed with the code', async () => {
    const activities = createMemberActivities({ pool: env.pool });
    const id = await newMember(10);
    const error = await activities
      .holdPoints({ idempotencyKey: 'ord_act:hold', memberId: id, orderId: 'ord_act', points: 11 })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'INSUFFICIENT_POINTS', nonRetryable: true });
    const held = await activities.holdPoints({ idempotencyKey: 'ord_act:hold-ok', memberId: id, orderId: 'ord_act', points: 10 });
    expect(held).toEqual({ memberId: id, orderId: 'ord_act', points: 10 });
    expect((await activities.getMember({ memberId: id })).points).toEqual({ available: 0, pending: 0, held: 10 });
  });
});

describe('round trips of an order\'s points', () => {
  const roundTrips = (work: () => Promise<unknown>) => countRoundTrips(work);

  test('award takes two, completion three (four when the tier moves): the entry, balances and order row go with the result and COMMIT', async () => {
    const id = await newMember(40);
    const orderId = `ord_rt_${env.id}`;
    const award = () => member.awardPendingPoints({ idempotencyKey: `${orderId}:award`, memberId: id, orderId, paidFen: 50_090 });
    expect(await roundTrips(award)).toBe(2);
    expect(await balances(id)).toEqual({ available: 40, pending: 500, held: 0 });
    expect(await award()).toEqual({ memberId: id, orderId, points: 500, paidFen: 50_090 }); // the stored answer
    expect(await balances(id)).toEqual({ available: 40, pending: 500, held: 0 });
    const complete = () => member.completeOrderPoints({ idempotencyKey: `${orderId}:complete`, memberId: id, orderId, completedSpendFen: 50_090 });
    expect(await roundTrips(complete)).toBe(3);
    expect(await balances(id)).toEqual({ available: 540, pending: 0, held: 0 });
    expect((await member.getMember(id)).tier).toBe('BRONZE'); // 500.90 yuan: the tier stays, no write of its own
    const entries = await env.pool.query(
      'SELECT kind, delta_available, delta_pending FROM member.points_entries WHERE member_id = $1 AND order_id = $2 ORDER BY id',
      [id, orderId],
    );
    expect(entries.rows).toEqual([
      { kind: 'AWARD_PENDING', delta_available: '0', delta_pending: '500' },
      { kind: 'COMPLETE_ORDER', delta_available: '500', delta_pending: '-500' },
    ]);
    const row = await env.pool.query('SELECT awarded_points, pending_points, completed, completed_spend_fen FROM member.order_points WHERE member_id = $1 AND order_id = $2', [id, orderId]);
    expect(row.rows).toEqual([{ awarded_points: '500', pending_points: '0', completed: true, completed_spend_fen: '50090' }]);
    // A completed order earns no more: the award's refusal leaves the balances as they are.
    const late = member.awardPendingPoints({ idempotencyKey: `${orderId}:award-late`, memberId: id, orderId, paidFen: 1_000 });
    expect((await refusal(late)).code).toBe('ORDER_ALREADY_COMPLETED');
    expect(await balances(id)).toEqual({ available: 540, pending: 0, held: 0 });
  });
});
