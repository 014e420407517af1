import type { Pool } from 'pg';
import { auditEntrySchema, type AuditEntryInput, type AuditEvent } from './schemas';

interface EventRow {
  id: string;
  at: Date;
  actor: string;
  actor_role: string;
  action: string;
  target_type: string;
  target_id: string;
  outcome: 'ACCEPTED' | 'REFUSED';
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  details: Record<string, unknown> | null;
  request_id: string | null;
  workflow_id: string | null;
  run_id: string | null;
  idempotency_key: string | null;
}

/** The append-only audit trail (`audit.events`): who changed what, before and after, in which run. */
export function createAuditService({ pool }: { pool: Pool }) {
  return {
    async record(input: AuditEntryInput): Promise<void> {
      const entry = auditEntrySchema.parse(input);
      await pool.query(
        `INSERT INTO audit.events (actor, actor_role, action, target_type, target_id, outcome, before, after, details, request_id, workflow_id, run_id, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
        [
          entry.actor,
          entry.actorRole,
          entry.action,
          entry.targetType,
          entry.targetId,
          entry.outcome,
          entry.before ? JSON.stringify(entry.before) : null,
          entry.after ? JSON.stringify(entry.after) : null,
          entry.details ? JSON.stringify(entry.details) : null,
          entry.requestId ?? null,
          entry.workflowId ?? null,
          entry.runId ?? null,
          entry.idempotencyKey ?? null,
        ],
      );
    },

    async list(filter: { targetType?: string; targetId?: string; limit?: number } = {}): Promise<AuditEvent[]> {
      const found = await pool.query<EventRow>(
        `SELECT * FROM audit.events WHERE ($1::text IS NULL OR target_type = $1) AND ($2::text IS NULL OR target_id = $2) ORDER BY id LIMIT $3`,
        [filter.targetType ?? null, filter.targetId ?? null, filter.limit ?? 200],
      );
      return found.rows.map((row) => ({
        id: Number(row.id),
        at: row.at.toISOString(),
        actor: row.actor,
        actorRole: row.actor_role,
        action: row.action,
        targetType: row.target_type,
        targetId: row.target_id,
        outcome: row.outcome,
        before: row.before ?? undefined,
        after: row.after ?? undefined,
        details: row.details ?? undefined,
        requestId: row.request_id ?? undefined,
        workflowId: row.workflow_id ?? undefined,
        runId: row.run_id ?? undefined,
        idempotencyKey: row.idempotency_key ?? undefined,
      }));
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
