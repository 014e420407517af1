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

/**
 * Records every row written (insert, update, delete) in any table of the engine's schemas into
 * `test_watch.writes`, by a trigger on each table: cheap enough to check after every request.
 * Test databases only.
 */
export async function watchWrites(pool: Pool) {
  await pool.query(`
    CREATE SCHEMA IF NOT EXISTS test_watch;
    CREATE TABLE IF NOT EXISTS test_watch.writes (id bigserial PRIMARY KEY, table_name text NOT NULL, operation text NOT NULL);
    CREATE OR REPLACE FUNCTION test_watch.record_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_watch.writes (table_name, operation) VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP);
      RETURN NULL;
    END $$;
    DO $$
    DECLARE t record;
    BEGIN
      FOR t IN SELECT table_schema, table_name FROM information_schema.tables
                WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema', 'public', 'test_watch')
      LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER test_watch_writes AFTER INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION test_watch.record_write()', t.table_schema, t.table_name);
      END LOOP;
    END $$;`);
  const last = async () => Number((await pool.query<{ id: string | null }>('SELECT max(id) AS id FROM test_watch.writes')).rows[0].id ?? 0);
  return {
    last,
    /** Tables written since the mark `since` (a value of `last()`). */
    async tablesWrittenSince(since: number): Promise<string[]> {
      const found = await pool.query<{ table_name: string }>('SELECT DISTINCT table_name FROM test_watch.writes WHERE id > $1 ORDER BY 1', [since]);
      return found.rows.map((row) => row.table_name);
    },
  };
}
