import type { Pool, PoolClient } from 'pg';
import type { Clock } from '../shared/db';
import { DomainError } from '../shared/errors';
import { applyOnce, compensateOnce, type FinishWith } from '../shared/idempotency';
import { balancesOf, lockBalances, lockBalancesSql, lockOrderPoints, lockOrderPointsSql, orderPointsOf, planTakeBack, postEntry, postEntrySql, saveOrderPoints, type Balances, type EntryKind, type OrderPoints } from './ledger';
import { pointsForFen, tierForSpend, type Tier } from './rules';
import {
  awardPendingPointsSchema,
  commitHeldPointsSchema,
  compensationSchema,
  completeOrderPointsSchema,
  grantPointsSchema,
  holdPointsSchema,
  returnUsedPointsSchema,
  reversePointsForRefundSchema,
  type AwardPendingPointsInput,
  type CommitHeldPointsInput,
  type CompensationInput,
  type CompleteOrderPointsInput,
  type GrantPointsInput,
  type HoldPointsInput,
  type ReturnUsedPointsInput,
  type ReversePointsForRefundInput,
} from './schemas';

export interface OrderPointsChange {
  memberId: string;
  orderId: string;
  points: number;
}

export interface TakeBackResult extends OrderPointsChange {
  fromPending: number;
  fromAvailable: number;
  shortfall: number;
}

export interface RefundReversal extends TakeBackResult {
  refundedFen: number;
  /** floor(refunded yuan) × rate, before the cap of what the order still has earned. */
  targetPoints: number;
  completedSpendReducedFen: number;
  tier: Tier;
}

const log = { schema: 'member' };

/**
 * The points operations: each one an exactly-once effect (applyOnce / compensateOnce) that posts its
 * entries through the ledger, with the member's balances row locked first.
 */
export function createPointsOperations({ pool, clock, pointsPerYuan }: { pool: Pool; clock: Clock; pointsPerYuan: number }) {
  /** applyOnce whose effect starts with the member's balances locked: the lock travels with the claim. */
  function applyWithBalances<T>(key: string, operation: string, memberId: string, effect: (client: PoolClient, balances: Balances) => Promise<T>): Promise<T> {
    return applyOnce(pool, log, key, operation, (client, rows) => effect(client, balancesOf(rows, memberId)), lockBalancesSql(memberId));
  }

  /** applyWithBalances whose effect also starts with the order's points row locked (after the balances, in the ledger's lock order). */
  function applyWithOrderPoints<T>(
    key: string,
    operation: string,
    memberId: string,
    orderId: string,
    effect: (client: PoolClient, balances: Balances, order: OrderPoints, finishWith: FinishWith) => Promise<T>,
  ): Promise<T> {
    return applyOnce(
      pool,
      log,
      key,
      operation,
      (client, balances, [order], finishWith) => effect(client, balancesOf(balances, memberId), orderPointsOf(order, memberId, orderId), finishWith),
      [lockBalancesSql(memberId), lockOrderPointsSql(memberId, orderId)],
    );
  }

  async function post(client: PoolClient, kind: EntryKind, key: string, change: Omit<Parameters<typeof postEntry>[1], 'kind' | 'idempotencyKey' | 'at'>, saving?: OrderPoints) {
    return postEntry(client, { ...change, kind, idempotencyKey: key, at: clock() }, saving);
  }

  /** post, left to the last round trip (applyOnce's finishWith): for an effect that reads nothing of the balances it leaves. */
  function postLast(finishWith: FinishWith, kind: EntryKind, key: string, change: Omit<Parameters<typeof postEntry>[1], 'kind' | 'idempotencyKey' | 'at'>, saving?: OrderPoints) {
    const statement = postEntrySql({ ...change, kind, idempotencyKey: key, at: clock() }, saving);
    if (statement) finishWith(statement);
  }

  /** Adds (or, when negative, removes) completed spend and recomputes the tier. */
  async function changeCompletedSpend(client: PoolClient, memberId: string, deltaFen: number): Promise<Tier> {
    const updated = await client.query<{ completed_spend_fen: string; tier: Tier }>(
      `UPDATE member.members SET completed_spend_fen = completed_spend_fen + $2 WHERE id = $1 RETURNING completed_spend_fen, tier`,
      [memberId, deltaFen],
    );
    const tier = tierForSpend(Number(updated.rows[0].completed_spend_fen));
    // Most completions leave the tier as it was: written only when it moves.
    if (tier !== updated.rows[0].tier) await client.query('UPDATE member.members SET tier = $2 WHERE id = $1', [memberId, tier]);
    return tier;
  }

  async function takeBackPoints(client: PoolClient, kind: EntryKind, key: string, balances: Balances, order: OrderPoints, points: number) {
    const plan = planTakeBack(points, order, balances);
    const { memberId, orderId } = order;
    order.pendingPoints -= plan.fromPending;
    order.takenBackPoints += points;
    await post(client, kind, key, { memberId, orderId, deltaPending: -plan.fromPending, deltaAvailable: -plan.fromAvailable, shortfall: plan.shortfall }, order);
    return plan;
  }

  return {
    /** Credits points outside any order (welcome bonus, goodwill by support). */
    async grantPoints(input: GrantPointsInput): Promise<{ memberId: string; points: number }> {
      const { idempotencyKey, memberId, points } = grantPointsSchema.parse(input);
      return applyWithBalances(idempotencyKey, 'grant-points', memberId, async (client) => {
        await post(client, 'GRANT', idempotencyKey, { memberId, deltaAvailable: points });
        return { memberId, points };
      });
    },

    /** Order placement: available → held. */
    async holdPoints(input: HoldPointsInput): Promise<OrderPointsChange> {
      const { idempotencyKey, memberId, orderId, points } = holdPointsSchema.parse(input);
      return applyWithBalances(idempotencyKey, 'hold-points', memberId, async (client, balances) => {
        if (balances.available < points) {
          throw new DomainError('INSUFFICIENT_POINTS', `member ${memberId} has ${balances.available} points, ${points} requested`, {
            memberId,
            available: balances.available,
            requested: points,
          });
        }
        await post(client, 'HOLD', idempotencyKey, { memberId, orderId, deltaAvailable: -points, deltaHeld: points });
        await client.query(
          `INSERT INTO member.point_holds (hold_key, member_id, order_id, points, state, created_at) VALUES ($1, $2, $3, $4, 'HELD', $5)`,
          [idempotencyKey, memberId, orderId, points, clock()],
        );
        return { memberId, orderId, points };
      });
    },

    /** Compensation of holdPoints (same key): held → available. A hold already paid with cannot be released. */
    async releaseHeldPoints(input: CompensationInput) {
      const { idempotencyKey } = compensationSchema.parse(input);
      return compensateOnce(pool, log, idempotencyKey, 'hold-points', async (client, hold: OrderPointsChange) => {
        await lockBalances(client, hold.memberId);
        const released = await client.query(
          `UPDATE member.point_holds SET state = 'RELEASED' WHERE hold_key = $1 AND state = 'HELD'`,
          [idempotencyKey],
        );
        if (released.rowCount === 0) {
          throw new DomainError('HOLD_NOT_ACTIVE', `points hold ${idempotencyKey} was already committed by a payment`, { holdKey: idempotencyKey });
        }
        await post(client, 'RELEASE_HOLD', idempotencyKey, { memberId: hold.memberId, orderId: hold.orderId, deltaHeld: -hold.points, deltaAvailable: hold.points });
        return hold;
      });
    },

    /** Payment: the held points are spent for good (held → gone). */
    async commitHeldPoints(input: CommitHeldPointsInput): Promise<OrderPointsChange & { holdKey: string }> {
      const { idempotencyKey, holdKey } = commitHeldPointsSchema.parse(input);
      return applyOnce(pool, log, idempotencyKey, 'commit-held-points', async (client) => {
        const found = await client.query('SELECT member_id FROM member.point_holds WHERE hold_key = $1', [holdKey]);
        if (found.rowCount === 0) throw new DomainError('HOLD_NOT_FOUND', `no points hold ${holdKey}`, { holdKey });
        await lockBalances(client, found.rows[0].member_id);
        const hold = await client.query(
          'SELECT member_id, order_id, points, state FROM member.point_holds WHERE hold_key = $1 FOR UPDATE',
          [holdKey],
        );
        const { member_id: memberId, order_id: orderId, state } = hold.rows[0];
        const points = Number(hold.rows[0].points);
        if (state !== 'HELD') throw new DomainError('HOLD_NOT_ACTIVE', `points hold ${holdKey} is ${state}`, { holdKey, state });
        await client.query(`UPDATE member.point_holds SET state = 'COMMITTED' WHERE hold_key = $1`, [holdKey]);
        const order = await lockOrderPoints(client, memberId, orderId);
        order.spentPoints += points;
        await post(client, 'COMMIT_HOLD', idempotencyKey, { memberId, orderId, deltaHeld: -points }, order);
        return { memberId, orderId, points, holdKey };
      });
    },

    /** Refund: gives back points spent on the order (the caller's pro rata share), never more than were spent. */
    async returnUsedPoints(input: ReturnUsedPointsInput): Promise<OrderPointsChange & { returnedTotal: number; spentTotal: number }> {
      const { idempotencyKey, memberId, orderId, points } = returnUsedPointsSchema.parse(input);
      return applyWithOrderPoints(idempotencyKey, 'return-used-points', memberId, orderId, async (client, _balances, order) => {
        const returnable = order.spentPoints - order.returnedPoints;
        if (points > returnable) {
          throw new DomainError('RETURN_EXCEEDS_USED', `order ${orderId} has ${returnable} spent points left to return, ${points} requested`, {
            memberId,
            orderId,
            returnable,
            requested: points,
          });
        }
        order.returnedPoints += points;
        await post(client, 'RETURN_USED', idempotencyKey, { memberId, orderId, deltaAvailable: points }, order);
        return { memberId, orderId, points, returnedTotal: order.returnedPoints, spentTotal: order.spentPoints };
      });
    },

    /** Payment: floor(paid yuan) × rate points, pending until the order completes. */
    async awardPendingPoints(input: AwardPendingPointsInput): Promise<OrderPointsChange & { paidFen: number }> {
      const { idempotencyKey, memberId, orderId, paidFen } = awardPendingPointsSchema.parse(input);
      return applyWithOrderPoints(idempotencyKey, 'award-pending-points', memberId, orderId, async (_client, _balances, order, finishWith) => {
        if (order.completed) throw new DomainError('ORDER_ALREADY_COMPLETED', `order ${orderId} is completed`, { memberId, orderId });
        const points = pointsForFen(paidFen, pointsPerYuan);
        order.awardedPoints += points;
        order.pendingPoints += points;
        postLast(finishWith, 'AWARD_PENDING', idempotencyKey, { memberId, orderId, deltaPending: points }, order);
        return { memberId, orderId, points, paidFen };
      });
    },

    /** Compensation of awardPendingPoints (same key): takes the award back, as far as the order still holds it. */
    async revokePendingPoints(input: CompensationInput) {
      const { idempotencyKey } = compensationSchema.parse(input);
      return compensateOnce(pool, log, idempotencyKey, 'award-pending-points', async (client, award: OrderPointsChange): Promise<TakeBackResult> => {
        const balances = await lockBalances(client, award.memberId);
        const order = await lockOrderPoints(client, award.memberId, award.orderId);
        const points = Math.min(award.points, order.awardedPoints - order.takenBackPoints);
        const plan = await takeBackPoints(client, 'REVOKE_PENDING', idempotencyKey, balances, order, points);
        return { memberId: award.memberId, orderId: award.orderId, points, ...plan };
      });
    },

    /**
     * Refund: takes back the points earned by the refunded amount (capped by what the order still has
     * earned), pending first, then available; spent points are the shortfall. After completion the
     * refunded amount also leaves the completed spend, and the tier is recomputed.
     */
    async reversePointsForRefund(input: ReversePointsForRefundInput): Promise<RefundReversal> {
      const { idempotencyKey, memberId, orderId, refundedFen } = reversePointsForRefundSchema.parse(input);
      return applyWithOrderPoints(idempotencyKey, 'reverse-points-for-refund', memberId, orderId, async (client, balances, order) => {
        const targetPoints = pointsForFen(refundedFen, pointsPerYuan);
        const points = Math.min(targetPoints, order.awardedPoints - order.takenBackPoints);
        const plan = await takeBackPoints(client, 'REVERSE_FOR_REFUND', idempotencyKey, balances, order, points);
        let completedSpendReducedFen = 0;
        if (order.completed) {
          completedSpendReducedFen = Math.min(refundedFen, order.completedSpendFen - order.refundedSpendFen);
          order.refundedSpendFen += completedSpendReducedFen;
          await saveOrderPoints(client, order);
        }
        const tier = await changeCompletedSpend(client, memberId, -completedSpendReducedFen);
        return { memberId, orderId, refundedFen, targetPoints, points, ...plan, completedSpendReducedFen, tier };
      });
    },

    /** After-sales window closed: the order's pending points become available, its spend counts for the tier. */
    async completeOrderPoints(input: CompleteOrderPointsInput) {
      const { idempotencyKey, memberId, orderId, completedSpendFen } = completeOrderPointsSchema.parse(input);
      return applyWithOrderPoints(idempotencyKey, 'complete-order-points', memberId, orderId, async (client, _balances, order, finishWith) => {
        if (order.completed) throw new DomainError('ORDER_ALREADY_COMPLETED', `order ${orderId} is completed`, { memberId, orderId });
        const points = order.pendingPoints;
        order.pendingPoints = 0;
        order.completed = true;
        order.completedSpendFen = completedSpendFen;
        // Pending to available for the same points: no balance can go below zero, and nothing reads them after.
        postLast(finishWith, 'COMPLETE_ORDER', idempotencyKey, { memberId, orderId, deltaPending: -points, deltaAvailable: points }, order);
        const tier = await changeCompletedSpend(client, memberId, completedSpendFen);
        return { memberId, orderId, points, completedSpendFen, tier };
      });
    },
  };
}
