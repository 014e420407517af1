import type { Pool } from 'pg';

export interface OpsActivityDeps {
  pool: Pool;
}

/** Activities for operational checks (the smoke-test workflow). */
export function createOpsActivities({ pool }: OpsActivityDeps) {
  return {
    /**
     * Records that a smoke test reached PostgreSQL. Keyed by workflow id: a retry or a replay after a
     * worker crash finds the row and returns it instead of writing a second one.
     */
    async recordSmokeTest({ workflowId, message }: { workflowId: string; message: string }): Promise<{
      recordedAt: string;
      firstWrite: boolean;
    }> {
      const inserted = await pool.query<{ recorded_at: Date }>(
        `INSERT INTO ops.smoke_tests (workflow_id, message) VALUES ($1, $2)
         ON CONFLICT (workflow_id) DO NOTHING RETURNING recorded_at`,
        [workflowId, message],
      );
      if (inserted.rowCount === 1) return { recordedAt: inserted.rows[0].recorded_at.toISOString(), firstWrite: true };
      const existing = await pool.query<{ recorded_at: Date }>(
        'SELECT recorded_at FROM ops.smoke_tests WHERE workflow_id = $1',
        [workflowId],
      );
      return { recordedAt: existing.rows[0].recorded_at.toISOString(), firstWrite: false };
    },
  };
}

export type OpsActivities = ReturnType<typeof createOpsActivities>;
