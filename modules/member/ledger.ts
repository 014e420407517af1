import type { PoolClient } from 'pg';
import { DomainError } from '../shared/errors';
import { sqlInteger, sqlText, sqlTimestamp } from '../shared/idempotency';

/**
 * The points ledger inside one transaction. Every balance change is posted as an entry and applied to
 * the member's balances row with the same deltas, so the balances are always the sum of the entries.
 * Callers lock the balances row first (lockBalances) and only then the order's rows: one member's
 * operations run one at a time, in one lock order, so they neither race nor deadlock.
 */
export type EntryKind =
  | 'GRANT'
  | 'HOLD'
  | 'RELEASE_HOLD'
  | 'COMMIT_HOLD'
  | 'RETURN_USED'
  | 'AWARD_PENDING'
  | 'REVOKE_PENDING'
  | 'REVERSE_FOR_REFUND'
  | 'COMPLETE_ORDER';

export interface Balances {
  available: number;
  pending: number;
  held: number;
}

export interface EntryDraft {
  memberId: string;
  kind: EntryKind;
  deltaAvailable?: number;
  deltaPending?: number;
  deltaHeld?: number;
  shortfall?: number;
  orderId?: string;
  idempotencyKey: string;
  at: Date;
}

export async function lockBalances(client: PoolClient, memberId: string): Promise<Balances> {
  const found = await client.query(lockBalancesSql(memberId));
  return balancesOf(found.rows, memberId);
}

/** The member's balances row, locked: literals, so it can be sent with an operation's claim (applyOnce's `startsWith`). */
export function lockBalancesSql(memberId: string): string {
  return `SELECT available, pending, held FROM member.points_balances WHERE member_id = ${sqlText(memberId)} FOR UPDATE`;
}

/** The balances that lockBalancesSql read; MEMBER_NOT_FOUND when it found no row. */
export function balancesOf(rows: readonly Record<string, unknown>[], memberId: string): Balances {
  if (rows.length === 0) throw new DomainError('MEMBER_NOT_FOUND', `member ${memberId} does not exist`, { memberId });
  return toBalances(rows[0] as { available: string; pending: string; held: string });
}

/**
 * Posts the entry and moves the balances by its deltas; the CHECK constraints refuse any negative
 * balance. `saving`: the order's row (locked by the caller) is saved in the same statement.
 */
export async function postEntry(client: PoolClient, entry: EntryDraft, saving?: OrderPoints): Promise<Balances> {
  const statement = postEntrySql(entry, saving);
  if (statement && hasDeltas(entry)) return toBalances((await client.query(`${statement} RETURNING available, pending, held`)).rows[0]);
  // Nothing moves: the order's row alone, if any, and the balances as they are.
  if (statement) await client.query(statement);
  return lockBalances(client, entry.memberId);
}

const hasDeltas = (entry: EntryDraft) => [entry.deltaAvailable, entry.deltaPending, entry.deltaHeld, entry.shortfall].some((value) => (value ?? 0) !== 0);

/**
 * postEntry's statement, in literals: the entry, the balances' move (and the order's row, `saving`)
 * in one statement (a data-modifying WITH runs to completion); the order's row alone when the entry
 * moves nothing; undefined when it writes nothing. An effect can leave it to the last round trip
 * (applyOnce's finishWith) when it reads nothing of the balances it leaves: the CHECK constraints
 * still refuse a negative balance, and the transaction rolls back.
 */
export function postEntrySql(entry: EntryDraft, saving?: OrderPoints): string | undefined {
  const saved = saving ? saveOrderPointsSql(saving) : undefined;
  if (!hasDeltas(entry)) return saved;
  const [available, pending, held, shortfall] = [entry.deltaAvailable ?? 0, entry.deltaPending ?? 0, entry.deltaHeld ?? 0, entry.shortfall ?? 0].map(sqlInteger);
  const [member, at] = [sqlText(entry.memberId), sqlTimestamp(entry.at)];
  return `WITH entry AS (
       INSERT INTO member.points_entries
         (member_id, kind, delta_available, delta_pending, delta_held, shortfall, order_id, idempotency_key, created_at)
       VALUES (${member}, ${sqlText(entry.kind)}, ${available}, ${pending}, ${held}, ${shortfall},
         ${entry.orderId === undefined ? 'NULL' : sqlText(entry.orderId)}, ${sqlText(entry.idempotencyKey)}, ${at}))${saved ? `, saved AS (${saved})` : ''}
     UPDATE member.points_balances
        SET available = available + ${available}, pending = pending + ${pending}, held = held + ${held}, updated_at = ${at}
      WHERE member_id = ${member}`;
}

/** Saves the order's row (locked by the caller), in literals. */
function saveOrderPointsSql(order: OrderPoints): string {
  const n = sqlInteger;
  return `UPDATE member.order_points
        SET spent_points = ${n(order.spentPoints)}, returned_points = ${n(order.returnedPoints)}, awarded_points = ${n(order.awardedPoints)},
            taken_back_points = ${n(order.takenBackPoints)}, pending_points = ${n(order.pendingPoints)}, completed = ${order.completed ? 'true' : 'false'},
            completed_spend_fen = ${n(order.completedSpendFen)}, refunded_spend_fen = ${n(order.refundedSpendFen)}
      WHERE member_id = ${sqlText(order.memberId)} AND order_id = ${sqlText(order.orderId)}`;
}

/** What one order did to a member's points and spend. */
export interface OrderPoints {
  memberId: string;
  orderId: string;
  spentPoints: number;
  returnedPoints: number;
  awardedPoints: number;
  takenBackPoints: number;
  pendingPoints: number;
  completed: boolean;
  completedSpendFen: number;
  refundedSpendFen: number;
}

/** The order's row, created empty on first use and locked for this transaction. */
export async function lockOrderPoints(client: PoolClient, memberId: string, orderId: string): Promise<OrderPoints> {
  const found = await client.query(lockOrderPointsSql(memberId, orderId));
  return orderPointsOf(found.rows, memberId, orderId);
}

/**
 * The order's points row, created or found, and locked, in one statement: the no-op update on a
 * conflict locks the row as FOR UPDATE would and returns it. Literals, so it can be sent with an
 * operation's claim (applyOnce's `startsWith`), after the balances' lock.
 */
export function lockOrderPointsSql(memberId: string, orderId: string): string {
  // Only for a member that exists: sent before the effect could refuse an unknown one (balancesOf's
  // MEMBER_NOT_FOUND), it must not fail on the foreign key instead.
  return `INSERT INTO member.order_points (member_id, order_id)
     SELECT ${sqlText(memberId)}, ${sqlText(orderId)} WHERE EXISTS (SELECT 1 FROM member.members WHERE id = ${sqlText(memberId)})
     ON CONFLICT (member_id, order_id) DO UPDATE SET member_id = EXCLUDED.member_id
     RETURNING spent_points, returned_points, awarded_points, taken_back_points, pending_points, completed,
               completed_spend_fen, refunded_spend_fen`;
}

/** The row lockOrderPointsSql returned. */
export function orderPointsOf(rows: readonly Record<string, unknown>[], memberId: string, orderId: string): OrderPoints {
  const row = rows[0];
  return {
    memberId,
    orderId,
    spentPoints: Number(row.spent_points),
    returnedPoints: Number(row.returned_points),
    awardedPoints: Number(row.awarded_points),
    takenBackPoints: Number(row.taken_back_points),
    pendingPoints: Number(row.pending_points),
    completed: row.completed as boolean,
    completedSpendFen: Number(row.completed_spend_fen),
    refundedSpendFen: Number(row.refunded_spend_fen),
  };
}

export async function saveOrderPoints(client: PoolClient, order: OrderPoints): Promise<void> {
  await client.query(saveOrderPointsSql(order));
}

/**
 * Takes back points an order earned: from that order's pending points first, then from what is
 * available. Points already spent cannot be taken back; they are reported as the shortfall.
 */
export function planTakeBack(points: number, order: OrderPoints, balances: Balances) {
  const fromPending = Math.min(points, order.pendingPoints);
  const fromAvailable = Math.min(points - fromPending, balances.available);
  return { fromPending, fromAvailable, shortfall: points - fromPending - fromAvailable };
}

function toBalances(row: { available: string; pending: string; held: string }): Balances {
  return { available: Number(row.available), pending: Number(row.pending), held: Number(row.held) };
}
