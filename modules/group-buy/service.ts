import type { Pool, PoolClient } from 'pg';
import { systemClock, withTransaction, type Clock } from '../shared/db';
import { DomainError } from '../shared/errors';
import { applyOnce, compensateOnce, type CompensationOutcome, type OperationLog } from '../shared/idempotency';
import { holdingSchema, returnLimitSchema, takeLimitSchema, type HoldingInput, type ReturnLimitInput, type TakeLimitInput } from './schemas';

/*
 * Group-buy (拼团) per-user limit across a whole campaign (domain-rules.md). Each member order takes
 * its quantity from the buyer's row in `group_buy.buyer_limits` by one guarded upsert: the row lock
 * serializes concurrent takes of one buyer, the guard (units + n <= limit) refuses the one that would
 * exceed the limit, and a CHECK backs it up. The take is idempotent by the order's key
 * (`<orderId>:group-limit`); its compensation gives the units back once (cancel, payment timeout,
 * rejection, failed group).
 *
 * The API takes the units before it seats the buyer in a group, so a buyer over the limit is refused
 * (409) with no seat and no workflow; the order's own placement step takes them again with the same
 * key (a no-op returning the API's result) and registers the compensation.
 */

const LOG: OperationLog = { schema: 'group_buy' };
const TAKE = 'take-limit';

export interface LimitTaken {
  campaignId: string;
  customerId: string;
  quantity: number;
  perUserLimit: number;
  /** The buyer's units in the campaign right after this take. */
  heldAfter: number;
}

export interface GroupBuyServiceDeps {
  pool: Pool;
  clock?: Clock;
}

export function createGroupBuyService(deps: GroupBuyServiceDeps) {
  const { pool } = deps;
  const clock = deps.clock ?? systemClock;

  async function giveBack(client: PoolClient, taken: LimitTaken): Promise<{ heldAfter: number }> {
    const updated = await client.query<{ units: number }>(
      `UPDATE group_buy.buyer_limits SET units = units - $3, updated_at = $4
        WHERE campaign_id = $1 AND customer_id = $2 RETURNING units`,
      [taken.campaignId, taken.customerId, taken.quantity, clock()],
    );
    return { heldAfter: updated.rows[0]?.units ?? 0 };
  }

  async function holding(input: HoldingInput): Promise<{ units: number }> {
    const { campaignId, customerId } = holdingSchema.parse(input);
    const found = await pool.query<{ units: number }>('SELECT units FROM group_buy.buyer_limits WHERE campaign_id = $1 AND customer_id = $2', [
      campaignId,
      customerId,
    ]);
    return { units: found.rows[0]?.units ?? 0 };
  }

  return {
    holding,

    /**
     * Takes `quantity` of the buyer's limit in the campaign, once per key. Over the limit: DomainError
     * LIMIT_REACHED (details: perUserLimit, held, requested) and nothing is recorded, so the same key
     * may try again later.
     */
    async takeLimit(input: TakeLimitInput): Promise<LimitTaken> {
      const { idempotencyKey, campaignId, customerId, quantity, perUserLimit } = takeLimitSchema.parse(input);
      return applyOnce(pool, LOG, idempotencyKey, TAKE, async (client) => {
        const refuse = async (): Promise<never> => {
          const held = await client.query<{ units: number }>(
            'SELECT units FROM group_buy.buyer_limits WHERE campaign_id = $1 AND customer_id = $2',
            [campaignId, customerId],
          );
          throw new DomainError('LIMIT_REACHED', `at most ${perUserLimit} per buyer in group-buy ${campaignId}`, {
            campaignId,
            perUserLimit,
            held: held.rows[0]?.units ?? 0,
            requested: quantity,
          });
        };
        if (quantity > perUserLimit) return refuse();
        const taken = await client.query<{ units: number }>(
          `INSERT INTO group_buy.buyer_limits AS b (campaign_id, customer_id, units, per_user_limit, updated_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (campaign_id, customer_id) DO UPDATE
             SET units = b.units + EXCLUDED.units, per_user_limit = EXCLUDED.per_user_limit, updated_at = EXCLUDED.updated_at
             WHERE b.units + EXCLUDED.units <= EXCLUDED.per_user_limit
           RETURNING units`,
          [campaignId, customerId, quantity, perUserLimit, clock()],
        );
        if (taken.rowCount === 0) return refuse();
        return { campaignId, customerId, quantity, perUserLimit, heldAfter: taken.rows[0].units };
      });
    },

    /** Compensation of takeLimit (same key): the units go back once; a no-op (tombstone) when never taken. */
    async returnLimit(input: ReturnLimitInput): Promise<CompensationOutcome<{ heldAfter: number }>> {
      const { idempotencyKey } = returnLimitSchema.parse(input);
      return compensateOnce<LimitTaken, { heldAfter: number }>(pool, LOG, idempotencyKey, TAKE, (client, taken) => giveBack(client, taken));
    },

    /**
     * The API's give-back when the buyer could not be seated (group full, closed...) before any order
     * workflow existed: the take is forgotten (no tombstone), so a retry of the same request may take
     * the units again. Never used once the order workflow runs: its compensation is returnLimit.
     */
    async forgetLimit(input: ReturnLimitInput): Promise<'undone' | 'nothing'> {
      const { idempotencyKey } = returnLimitSchema.parse(input);
      return withTransaction(pool, async (client) => {
        const removed = await client.query<{ result: LimitTaken }>(
          `DELETE FROM group_buy.operations WHERE key = $1 AND operation = $2 AND state = 'APPLIED' RETURNING result`,
          [idempotencyKey, TAKE],
        );
        if (removed.rowCount === 0) return 'nothing';
        await giveBack(client, removed.rows[0].result);
        return 'undone';
      });
    },
  };
}

export type GroupBuyService = ReturnType<typeof createGroupBuyService>;
