import type { Pool } from 'pg';

/** The latest reconciliation report in brief, for monitoring: its day and how many differences it found. */
export interface LatestReconciliation {
  date: string;
  differences: number;
  createdAt: Date;
}

export async function latestReconciliation(pool: Pool): Promise<LatestReconciliation | undefined> {
  const result = await pool.query<{ date: string; differences: number; created_at: Date }>(
    `SELECT to_char(report_date, 'YYYY-MM-DD') AS date, jsonb_array_length(differences) AS differences, created_at
       FROM finance.reconciliation_reports ORDER BY report_date DESC, id DESC LIMIT 1`,
  );
  const row = result.rows[0];
  return row ? { date: row.date, differences: Number(row.differences), createdAt: row.created_at } : undefined;
}
