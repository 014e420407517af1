import type { Pool } from 'pg';

/** Row counts of every table of the engine's schemas, by `schema.table`: what a refused request must leave unchanged. */
export async function rowCounts(pool: Pool): Promise<Record<string, number>> {
  const tables = await pool.query<{ name: string }>(
    `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema', 'public')
      ORDER BY 1`,
  );
  if (tables.rows.length === 0) return {};
  const counts = await pool.query<{ name: string; n: string }>(
    tables.rows.map((table, index) => `SELECT $${index + 1}::text AS name, count(*) AS n FROM ${table.name}`).join(' UNION ALL '),
    tables.rows.map((table) => table.name),
  );
  return Object.fromEntries(counts.rows.map((row) => [row.name, Number(row.n)]));
}
