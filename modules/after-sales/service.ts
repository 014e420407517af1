import type { Pool, PoolClient } from 'pg';
import type { RefundRequestView } from '../../workflows/after-sales/definitions';
import { domainEvent, writeEvents } from '../events/outbox';
import { withTransaction } from '../shared/db';
import { DomainError } from '../shared/errors';
import { listRequestsSchema, recordDecisionSchema, type ListRequestsInput, type RecordDecisionInput } from './schemas';

export interface DecisionRecord {
  id: number;
  requestId: string;
  orderId: string;
  decision: 'APPROVED' | 'REJECTED';
  decidedBy: string;
  channel: 'api' | 'signal' | 'auto';
  approvedFen: number | null;
  reason: string | null;
  decidedAt: string;
  workflowId: string;
  runId: string;
}

interface DecisionRow {
  id: string;
  request_id: string;
  order_id: string;
  decision: 'APPROVED' | 'REJECTED';
  decided_by: string;
  channel: 'api' | 'signal' | 'auto';
  approved_fen: string | null;
  reason: string | null;
  decided_at: Date;
  workflow_id: string;
  run_id: string;
}

const toDecision = (row: DecisionRow): DecisionRecord => ({
  id: Number(row.id),
  requestId: row.request_id,
  orderId: row.order_id,
  decision: row.decision,
  decidedBy: row.decided_by,
  channel: row.channel,
  approvedFen: row.approved_fen === null ? null : Number(row.approved_fen),
  reason: row.reason,
  decidedAt: row.decided_at.toISOString(),
  workflowId: row.workflow_id,
  runId: row.run_id,
});

/**
 * After-sales: the support agents' list of refund requests (a projection of the request workflows)
 * and the audit trail of decisions. Both writes are idempotent: the projection keeps the newest
 * version, and a request has exactly one decision row (a retried activity finds it).
 */
export function createAfterSalesService({ pool }: { pool: Pool }) {
  return {
    async saveRequest(view: RefundRequestView): Promise<void> {
      await pool.query(
        `INSERT INTO after_sales.refund_requests
           (request_id, order_id, customer_id, kind, status, requested_fen, refunded_fen, requested_at, decision_due_at, workflow_id, view, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (request_id) DO UPDATE SET
           status = EXCLUDED.status, refunded_fen = EXCLUDED.refunded_fen, view = EXCLUDED.view,
           version = EXCLUDED.version, updated_at = now()
         WHERE after_sales.refund_requests.version < EXCLUDED.version`,
        [
          view.requestId,
          view.orderId,
          view.customerId,
          view.kind,
          view.status,
          view.requestedFen,
          view.refundedFen,
          view.requestedAt,
          view.decisionDueAt,
          view.workflowId,
          JSON.stringify(view),
          view.version,
        ],
      );
    },

    /** Writes the audit row once; the same decision again returns the row, a different one is refused. */
    async recordDecision(input: RecordDecisionInput): Promise<DecisionRecord> {
      const decision = recordDecisionSchema.parse(input);
      // The decision row and its refund.decided event commit together (one decision per request).
      const inserted = await withTransaction(pool, async (client) => {
        const row = await client.query<DecisionRow>(
          `INSERT INTO after_sales.decisions
             (request_id, order_id, decision, decided_by, channel, approved_fen, reason, decided_at, workflow_id, run_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (request_id) DO NOTHING RETURNING *`,
          [
            decision.requestId,
            decision.orderId,
            decision.decision,
            decision.decidedBy,
            decision.channel,
            decision.approvedFen ?? null,
            decision.reason ?? null,
            decision.decidedAt,
            decision.workflowId,
            decision.runId,
          ],
        );
        if (row.rows[0]) await writeEvents(client, [await decidedEvent(client, toDecision(row.rows[0]))]);
        return row;
      });
      if (inserted.rows[0]) return toDecision(inserted.rows[0]);
      const existing = toDecision((await pool.query<DecisionRow>('SELECT * FROM after_sales.decisions WHERE request_id = $1', [decision.requestId])).rows[0]);
      if (existing.decision !== decision.decision || existing.decidedBy !== decision.decidedBy) {
        throw new DomainError('DECISION_ALREADY_RECORDED', `request ${decision.requestId} was already ${existing.decision} by ${existing.decidedBy}`, {
          requestId: decision.requestId,
        });
      }
      return existing;
    },

    /** Oldest first: the agent works the queue from the request closest to auto-approval. */
    async listRequests(input: ListRequestsInput = {}): Promise<RefundRequestView[]> {
      const { status, limit } = listRequestsSchema.parse(input);
      const found = await pool.query<{ view: RefundRequestView }>(
        `SELECT view FROM after_sales.refund_requests WHERE ($1::text IS NULL OR status = $1)
         ORDER BY requested_at, request_id LIMIT $2`,
        [status ?? null, limit],
      );
      return found.rows.map((row) => row.view);
    },

    async getRequest(requestId: string): Promise<RefundRequestView | undefined> {
      const found = await pool.query<{ view: RefundRequestView }>('SELECT view FROM after_sales.refund_requests WHERE request_id = $1', [requestId]);
      return found.rows[0]?.view;
    },

    async requestsOfOrder(orderId: string): Promise<RefundRequestView[]> {
      const found = await pool.query<{ view: RefundRequestView }>(
        'SELECT view FROM after_sales.refund_requests WHERE order_id = $1 ORDER BY requested_at, request_id',
        [orderId],
      );
      return found.rows.map((row) => row.view);
    },

    async decisions(filter: { requestId?: string; orderId?: string } = {}): Promise<DecisionRecord[]> {
      const found = await pool.query<DecisionRow>(
        `SELECT * FROM after_sales.decisions WHERE ($1::text IS NULL OR request_id = $1) AND ($2::text IS NULL OR order_id = $2) ORDER BY id`,
        [filter.requestId ?? null, filter.orderId ?? null],
      );
      return found.rows.map(toDecision);
    },
  };
}

/** refund.decided of a decision row; the buyer is the request's (projected when it was made). */
async function decidedEvent(client: PoolClient, decision: DecisionRecord) {
  const buyer = await client.query<{ customer_id: string }>('SELECT customer_id FROM after_sales.refund_requests WHERE request_id = $1', [decision.requestId]);
  return domainEvent({
    eventId: `${decision.requestId}:decided`,
    type: 'refund.decided',
    orderId: decision.orderId,
    customerId: buyer.rows[0]?.customer_id ?? null,
    occurredAt: decision.decidedAt,
    data: { requestId: decision.requestId, decision: decision.decision, approvedFen: decision.approvedFen, channel: decision.channel },
  });
}

export type AfterSalesService = ReturnType<typeof createAfterSalesService>;
