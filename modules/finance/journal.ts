import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { DomainError } from '../shared/errors';
import { sqlText } from '../shared/idempotency';
import { ACCOUNTS, type AccountCode, type EntryKind } from './accounts';

export interface JournalLine {
  account: AccountCode;
  debitFen: number;
  creditFen: number;
}

export interface NewEntry {
  idempotencyKey: string;
  kind: EntryKind;
  orderId: string | null;
  currency: string;
  /** The provider's transaction id for cash movements: what reconciliation matches on. */
  externalRef?: string;
  memo?: string;
  at: Date;
  lines: JournalLine[];
}

export interface JournalEntry {
  entryId: number;
  idempotencyKey: string;
  kind: EntryKind;
  orderId: string | null;
  currency: string;
  externalRef: string | null;
  createdAt: string;
  lines: JournalLine[];
}

export const debit = (account: AccountCode, fen: number): JournalLine => ({ account, debitFen: fen, creditFen: 0 });
export const credit = (account: AccountCode, fen: number): JournalLine => ({ account, debitFen: 0, creditFen: fen });

/**
 * Posts a balanced entry once per idempotency key (a repeat returns the first entry's id). An
 * unbalanced entry is a bug in the caller: refused here, and by the deferred trigger at commit.
 */
export async function postEntry(client: PoolClient, entry: NewEntry): Promise<{ entryId: number; replayed: boolean }> {
  const lines = entry.lines.filter((line) => line.debitFen !== 0 || line.creditFen !== 0);
  assertBalanced(lines);
  // The entry and its lines in one statement (the balance triggers are deferred to commit).
  const inserted = await client.query<{ id: string }>(
    `WITH entry AS (
       INSERT INTO finance.journal_entries (idempotency_key, kind, order_id, currency, external_ref, memo, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id),
     lines AS (
       INSERT INTO finance.journal_lines (entry_id, account, debit_fen, credit_fen)
       SELECT entry.id, l.account, l.debit_fen, l.credit_fen FROM entry, unnest($8::text[], $9::bigint[], $10::bigint[]) AS l(account, debit_fen, credit_fen))
     SELECT id FROM entry`,
    [
      entry.idempotencyKey,
      entry.kind,
      entry.orderId,
      entry.currency,
      entry.externalRef ?? null,
      entry.memo ?? null,
      entry.at,
      lines.map((line) => line.account),
      lines.map((line) => line.debitFen),
      lines.map((line) => line.creditFen),
    ],
  );
  if (!inserted.rows[0]) {
    const existing = await client.query<{ id: string }>('SELECT id FROM finance.journal_entries WHERE idempotency_key = $1', [entry.idempotencyKey]);
    return { entryId: Number(existing.rows[0].id), replayed: true };
  }
  const entryId = Number(inserted.rows[0].id);
  return { entryId, replayed: false };
}

export function assertBalanced(lines: JournalLine[]): void {
  const known = new Set<string>(Object.values(ACCOUNTS));
  for (const line of lines) {
    const oneSided = (line.debitFen > 0 && line.creditFen === 0) || (line.creditFen > 0 && line.debitFen === 0);
    if (!known.has(line.account) || !oneSided || !Number.isSafeInteger(line.debitFen) || !Number.isSafeInteger(line.creditFen)) {
      throw new DomainError('INVALID_JOURNAL_LINE', `invalid journal line ${JSON.stringify(line)}`, { line });
    }
  }
  const debits = lines.reduce((sum, line) => sum + line.debitFen, 0);
  const credits = lines.reduce((sum, line) => sum + line.creditFen, 0);
  if (lines.length < 2 || debits !== credits) {
    throw new DomainError('UNBALANCED_ENTRY', `entry does not balance: debits ${debits}, credits ${credits}`, { debits, credits });
  }
}

/** What the journal says about one order: money still unearned, and recognised revenue net of returns. */
export async function orderPosition(db: Pool | PoolClient, orderId: string): Promise<{ unearnedFen: number; netRevenueFen: number }> {
  return positionOf((await db.query(orderPositionSql(orderId))).rows);
}

interface PositionRow {
  account: string;
  net_credit: string;
}

/** orderPosition's statement in literals, so it can be sent with an operation's claim (applyOnce's `startsWith`). */
export function orderPositionSql(orderId: string): string {
  return `SELECT l.account, SUM(l.credit_fen - l.debit_fen) AS net_credit
       FROM finance.journal_lines l JOIN finance.journal_entries e ON e.id = l.entry_id
      WHERE e.order_id = ${sqlText(orderId)} GROUP BY l.account`;
}

/** The order's position from the rows orderPositionSql read. */
export function positionOf(rows: readonly QueryResultRow[]): { unearnedFen: number; netRevenueFen: number } {
  const netCredit = (account: AccountCode) => Number((rows as readonly PositionRow[]).find((row) => row.account === account)?.net_credit ?? 0);
  return { unearnedFen: netCredit(ACCOUNTS.prepayments), netRevenueFen: netCredit(ACCOUNTS.revenue) + netCredit(ACCOUNTS.salesReturns) };
}

export interface AccountBalance {
  account: AccountCode;
  currency: string;
  debitFen: number;
  creditFen: number;
  /** On the account's normal side: positive for an asset holding money, a liability owed, income earned. */
  balanceFen: number;
}

export async function accountBalances(db: Pool | PoolClient): Promise<AccountBalance[]> {
  const rows = await db.query<{ account: AccountCode; normal_side: 'debit' | 'credit'; currency: string; debits: string; credits: string }>(
    `SELECT a.code AS account, a.normal_side, e.currency, SUM(l.debit_fen) AS debits, SUM(l.credit_fen) AS credits
       FROM finance.journal_lines l
       JOIN finance.journal_entries e ON e.id = l.entry_id
       JOIN finance.accounts a ON a.code = l.account
      GROUP BY a.code, a.normal_side, e.currency ORDER BY a.code, e.currency`,
  );
  return rows.rows.map((row) => {
    const debitFen = Number(row.debits);
    const creditFen = Number(row.credits);
    return { account: row.account, currency: row.currency, debitFen, creditFen, balanceFen: row.normal_side === 'debit' ? debitFen - creditFen : creditFen - debitFen };
  });
}

export async function entriesForOrder(db: Pool | PoolClient, orderId: string): Promise<JournalEntry[]> {
  const rows = await db.query<{
    id: string;
    idempotency_key: string;
    kind: EntryKind;
    order_id: string | null;
    currency: string;
    external_ref: string | null;
    created_at: Date;
    lines: { account: AccountCode; debit_fen: number; credit_fen: number }[];
  }>(
    `SELECT e.id, e.idempotency_key, e.kind, e.order_id, e.currency, e.external_ref, e.created_at,
            json_agg(json_build_object('account', l.account, 'debit_fen', l.debit_fen, 'credit_fen', l.credit_fen) ORDER BY l.id) AS lines
       FROM finance.journal_entries e JOIN finance.journal_lines l ON l.entry_id = e.id
      WHERE e.order_id = $1 GROUP BY e.id ORDER BY e.id`,
    [orderId],
  );
  return rows.rows.map((row) => ({
    entryId: Number(row.id),
    idempotencyKey: row.idempotency_key,
    kind: row.kind,
    orderId: row.order_id,
    currency: row.currency,
    externalRef: row.external_ref,
    createdAt: row.created_at.toISOString(),
    lines: row.lines.map((line) => ({ account: line.account, debitFen: Number(line.debit_fen), creditFen: Number(line.credit_fen) })),
  }));
}
