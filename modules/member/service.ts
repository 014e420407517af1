import type { Pool } from 'pg';
import { systemClock, withTransaction, type Clock } from '../shared/db';
import { DomainError } from '../shared/errors';
import type { Balances, EntryKind } from './ledger';
import { createPointsOperations } from './points';
import { DEFAULT_POINTS_PER_YUAN, type Tier } from './rules';
import { createMemberSchema, memberIdSchema, type CreateMemberInput } from './schemas';

export type { OrderPointsChange, RefundReversal, TakeBackResult } from './points';

export interface MemberServiceDeps {
  pool: Pool;
  clock?: Clock;
  /** Points earned per whole yuan paid (default 1). */
  pointsPerYuan?: number;
}

export interface Member {
  id: string;
  name: string;
  tier: Tier;
  completedSpendFen: number;
  createdAt: string;
  points: Balances;
}

export interface PointsEntry {
  id: number;
  memberId: string;
  kind: EntryKind;
  deltaAvailable: number;
  deltaPending: number;
  deltaHeld: number;
  shortfall: number;
  orderId: string | null;
  idempotencyKey: string;
  createdAt: string;
}

/** For a caller that checks membership with other modules' rows in one statement: whether member `idParam` exists (boolean column). */
export const MEMBER_EXISTS = (idParam: string) => `EXISTS (SELECT 1 FROM member.members WHERE id = ${idParam}::text)`;

export function createMemberService(deps: MemberServiceDeps) {
  const { pool } = deps;
  const clock = deps.clock ?? systemClock;
  const pointsPerYuan = deps.pointsPerYuan ?? DEFAULT_POINTS_PER_YUAN;

  async function getMember(memberId: string): Promise<Member> {
    const found = await pool.query(
      `SELECT m.id, m.name, m.tier, m.completed_spend_fen, m.created_at, b.available, b.pending, b.held
         FROM member.members m JOIN member.points_balances b ON b.member_id = m.id
        WHERE m.id = $1`,
      [memberIdSchema.parse(memberId)],
    );
    if (found.rowCount === 0) throw new DomainError('MEMBER_NOT_FOUND', `member ${memberId} does not exist`, { memberId });
    const row = found.rows[0];
    return {
      id: row.id,
      name: row.name,
      tier: row.tier,
      completedSpendFen: Number(row.completed_spend_fen),
      createdAt: row.created_at.toISOString(),
      points: { available: Number(row.available), pending: Number(row.pending), held: Number(row.held) },
    };
  }

  return {
    /** Registers a member (idempotent by id: a repeat returns the existing member). */
    async createMember(input: CreateMemberInput): Promise<Member> {
      const { id, name } = createMemberSchema.parse(input);
      await withTransaction(pool, async (client) => {
        const inserted = await client.query(
          'INSERT INTO member.members (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
          [id, name, clock()],
        );
        if (inserted.rowCount === 1) await client.query('INSERT INTO member.points_balances (member_id) VALUES ($1)', [id]);
      });
      return getMember(id);
    },

    getMember,

    async listPointsEntries(memberId: string): Promise<PointsEntry[]> {
      const found = await pool.query(
        `SELECT id, member_id, kind, delta_available, delta_pending, delta_held, shortfall, order_id, idempotency_key, created_at
           FROM member.points_entries WHERE member_id = $1 ORDER BY id`,
        [memberIdSchema.parse(memberId)],
      );
      return found.rows.map((row) => ({
        id: Number(row.id),
        memberId: row.member_id,
        kind: row.kind,
        deltaAvailable: Number(row.delta_available),
        deltaPending: Number(row.delta_pending),
        deltaHeld: Number(row.delta_held),
        shortfall: Number(row.shortfall),
        orderId: row.order_id,
        idempotencyKey: row.idempotency_key,
        createdAt: row.created_at.toISOString(),
      }));
    },

    ...createPointsOperations({ pool, clock, pointsPerYuan }),
  };
}

export type MemberService = ReturnType<typeof createMemberService>;
