import type { Pool } from 'pg';
import { domainEvent, writeEvents } from '../events/outbox';
import { withTransaction } from '../shared/db';
import { ACCOUNTS } from './accounts';
import type { ProviderTransaction } from './provider';
import { reconcileSchema, type ReconcileInput } from './schemas';
import type { FinanceContext } from './store';

export interface ReconciliationDifference {
  kind: 'MISSING_IN_LEDGER' | 'MISSING_AT_PROVIDER' | 'AMOUNT_MISMATCH';
  /** The provider's transaction id (capture or refund), or `entry:<id>` for a cash entry without one. */
  transactionId: string;
  orderId: string | null;
  /** Signed cash movement: positive for money in (capture), negative for money out (refund). */
  providerAmountFen: number | null;
  ledgerAmountFen: number | null;
}

export interface ReconciliationReport {
  reportId: number;
  date: string;
  status: 'CLEAN' | 'DIFFERENCES';
  providerCount: number;
  ledgerCount: number;
  providerNetFen: number;
  ledgerNetFen: number;
  differences: ReconciliationDifference[];
}

interface LedgerMovement {
  ref: string;
  orderId: string | null;
  currency: string;
  netFen: number;
}

const DAY_MS = 86_400_000;

/**
 * Compares one UTC day of the provider's transactions with the ledger's cash movements, matched by
 * the provider's transaction id (journal_entries.external_ref). A transaction booked on the other
 * side of midnight is matched across days rather than reported twice as missing.
 */
export function createReconciliation(context: FinanceContext) {
  const { pool, provider, clock } = context;

  async function storedReport(runKey: string): Promise<ReconciliationReport | undefined> {
    const rows = await pool.query<ReportRow>('SELECT * FROM finance.reconciliation_reports WHERE run_key = $1', [runKey]);
    return rows.rows[0] && toReport(rows.rows[0]);
  }

  async function ledgerMovements(where: string, params: unknown[]): Promise<LedgerMovement[]> {
    const rows = await pool.query<{ ref: string; order_id: string | null; currency: string; net: string }>(
      `SELECT COALESCE(e.external_ref, 'entry:' || e.id) AS ref, e.order_id, e.currency, SUM(l.debit_fen - l.credit_fen) AS net
         FROM finance.journal_entries e JOIN finance.journal_lines l ON l.entry_id = e.id
        WHERE l.account = '${ACCOUNTS.cash}' AND ${where}
        GROUP BY 1, e.order_id, e.currency`,
      params,
    );
    return rows.rows.map((row) => ({ ref: row.ref, orderId: row.order_id, currency: row.currency, netFen: Number(row.net) }));
  }

  return {
    async reconcile(input: ReconcileInput): Promise<ReconciliationReport> {
      const { date, idempotencyKey } = reconcileSchema.parse(input);
      if (idempotencyKey) {
        const earlier = await storedReport(idempotencyKey);
        if (earlier) return earlier;
      }
      const from = new Date(`${date}T00:00:00.000Z`);
      const to = new Date(from.getTime() + DAY_MS);
      const providerDay = await provider.listTransactions({ from, to });
      const providerNearby = await provider.listTransactions({ from: new Date(from.getTime() - DAY_MS), to: new Date(to.getTime() + DAY_MS) });
      const ledgerDay = await ledgerMovements('e.created_at >= $1 AND e.created_at < $2', [from, to]);
      const ledgerForProviderDay = await ledgerMovements('e.external_ref = ANY($1)', [providerDay.map((tx) => tx.transactionId)]);

      const differences: ReconciliationDifference[] = [];
      const ledgerByRef = new Map(ledgerForProviderDay.map((movement) => [movement.ref, movement]));
      for (const tx of providerDay) {
        const booked = ledgerByRef.get(tx.transactionId);
        const providerAmountFen = signed(tx);
        if (!booked) {
          differences.push({ kind: 'MISSING_IN_LEDGER', transactionId: tx.transactionId, orderId: tx.orderId, providerAmountFen, ledgerAmountFen: null });
        } else if (booked.netFen !== providerAmountFen || booked.currency !== tx.currency) {
          differences.push({ kind: 'AMOUNT_MISMATCH', transactionId: tx.transactionId, orderId: tx.orderId, providerAmountFen, ledgerAmountFen: booked.netFen });
        }
      }
      const knownToProvider = new Set(providerNearby.map((tx) => tx.transactionId));
      for (const movement of ledgerDay) {
        if (!knownToProvider.has(movement.ref)) {
          differences.push({ kind: 'MISSING_AT_PROVIDER', transactionId: movement.ref, orderId: movement.orderId, providerAmountFen: null, ledgerAmountFen: movement.netFen });
        }
      }

      const report = {
        date,
        status: differences.length === 0 ? ('CLEAN' as const) : ('DIFFERENCES' as const),
        providerCount: providerDay.length,
        ledgerCount: ledgerDay.length,
        providerNetFen: providerDay.reduce((sum, tx) => sum + signed(tx), 0),
        ledgerNetFen: ledgerDay.reduce((sum, movement) => sum + movement.netFen, 0),
        differences,
      };
      // The report and one reconciliation.difference event per difference commit together.
      const stored = await withTransaction(pool, async (client) => {
        const row = await client.query<{ id: string }>(
          `INSERT INTO finance.reconciliation_reports (report_date, status, provider_count, ledger_count, provider_net_fen, ledger_net_fen, differences, run_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (run_key) DO NOTHING RETURNING id`,
          [date, report.status, report.providerCount, report.ledgerCount, report.providerNetFen, report.ledgerNetFen, JSON.stringify(differences), idempotencyKey ?? null],
        );
        if (row.rows[0]) await writeEvents(client, differenceEvents(row.rows[0].id, date, differences, clock()));
        return row;
      });
      if (!stored.rows[0]) return (await storedReport(idempotencyKey!))!;
      return { reportId: Number(stored.rows[0].id), ...report };
    },

  };
}

/** Stored reports of one day, newest first (what ops read: GET /admin/reconciliation?date=). */
export async function reconciliationReports(pool: Pool, date: string): Promise<ReconciliationReport[]> {
  const rows = await pool.query<ReportRow>('SELECT * FROM finance.reconciliation_reports WHERE report_date = $1 ORDER BY id DESC', [reconcileSchema.parse({ date }).date]);
  return rows.rows.map(toReport);
}

interface ReportRow {
  id: string;
  report_date: Date | string;
  status: 'CLEAN' | 'DIFFERENCES';
  provider_count: number;
  ledger_count: number;
  provider_net_fen: string;
  ledger_net_fen: string;
  differences: ReconciliationDifference[];
}

function toReport(row: ReportRow): ReconciliationReport {
  return {
    reportId: Number(row.id),
    date: typeof row.report_date === 'string' ? row.report_date : dateOnly(row.report_date),
    status: row.status,
    providerCount: row.provider_count,
    ledgerCount: row.ledger_count,
    providerNetFen: Number(row.provider_net_fen),
    ledgerNetFen: Number(row.ledger_net_fen),
    differences: row.differences,
  };
}

/** pg reads a date column as local midnight: take the calendar date back out in local time. */
function dateOnly(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

function differenceEvents(reportId: string, date: string, differences: ReconciliationDifference[], at: Date) {
  return differences.map((difference) =>
    domainEvent({
      eventId: `reconciliation:${reportId}:${difference.transactionId}:${difference.kind}`,
      type: 'reconciliation.difference',
      orderId: difference.orderId ?? null,
      customerId: null,
      occurredAt: at,
      data: {
        reportId,
        date,
        kind: difference.kind,
        transactionId: difference.transactionId,
        providerAmountFen: difference.providerAmountFen,
        ledgerAmountFen: difference.ledgerAmountFen,
      },
    }),
  );
}

function signed(tx: ProviderTransaction): number {
  return tx.kind === 'capture' ? tx.amountFen : -tx.amountFen;
}
