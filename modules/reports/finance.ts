import type { Pool, PoolClient } from 'pg';
import { endOf, startOf } from './days';

/**
 * The ledger's trial balance of a day: each account's debits and credits posted that day and its
 * closing totals at the end of the day (every account, moved or not), and that day's
 * reconciliation with the payment provider (the latest report for the day, NONE when there is none).
 */
export async function rollUpFinance(client: PoolClient, day: string, zone: string): Promise<void> {
  await client.query('DELETE FROM reports.trial_balance_daily WHERE day = $1', [day]);
  await client.query('DELETE FROM reports.reconciliation_daily WHERE day = $1', [day]);
  await client.query(
    `WITH lines AS (
       SELECT l.account, l.debit_fen, l.credit_fen, e.created_at >= ${startOf('$1', '$2')} AS today
         FROM finance.journal_lines l JOIN finance.journal_entries e ON e.id = l.entry_id
        WHERE e.created_at < ${endOf('$1', '$2')})
     INSERT INTO reports.trial_balance_daily (day, account, debit_fen, credit_fen, closing_debit_fen, closing_credit_fen)
     SELECT $1::date, a.code,
            COALESCE(sum(lines.debit_fen) FILTER (WHERE lines.today), 0), COALESCE(sum(lines.credit_fen) FILTER (WHERE lines.today), 0),
            COALESCE(sum(lines.debit_fen), 0), COALESCE(sum(lines.credit_fen), 0)
       FROM finance.accounts a LEFT JOIN lines ON lines.account = a.code
      GROUP BY a.code`,
    [day, zone],
  );
  await client.query(
    `INSERT INTO reports.reconciliation_daily (day, status, differences)
     SELECT $1::date, COALESCE(r.status, 'NONE'), COALESCE(jsonb_array_length(r.differences), 0)
       FROM (SELECT 1) one LEFT JOIN LATERAL (
         SELECT status, differences FROM finance.reconciliation_reports WHERE report_date = $1::date ORDER BY id DESC LIMIT 1) r ON true`,
    [day],
  );
}

export interface TrialBalanceRow {
  account: string;
  debitFen: number;
  creditFen: number;
  closingDebitFen: number;
  closingCreditFen: number;
}

export async function readFinance(pool: Pool, day: string) {
  const rows = await pool.query('SELECT * FROM reports.trial_balance_daily WHERE day = $1 ORDER BY account', [day]);
  const reconciliation = (await pool.query('SELECT status, differences FROM reports.reconciliation_daily WHERE day = $1', [day])).rows[0];
  const accounts: TrialBalanceRow[] = rows.rows.map((row) => ({
    account: row.account,
    debitFen: Number(row.debit_fen),
    creditFen: Number(row.credit_fen),
    closingDebitFen: Number(row.closing_debit_fen),
    closingCreditFen: Number(row.closing_credit_fen),
  }));
  const sum = (pick: (row: TrialBalanceRow) => number) => accounts.reduce((total, row) => total + pick(row), 0);
  return {
    day,
    accounts,
    totals: { debitFen: sum((row) => row.debitFen), creditFen: sum((row) => row.creditFen), closingDebitFen: sum((row) => row.closingDebitFen), closingCreditFen: sum((row) => row.closingCreditFen) },
    balanced: sum((row) => row.closingDebitFen) === sum((row) => row.closingCreditFen),
    reconciliation: reconciliation ? { status: reconciliation.status as string, differences: reconciliation.differences as number } : { status: 'NONE', differences: 0 },
  };
}
