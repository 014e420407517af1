import { createFinanceService } from '../../modules/finance';
import type { BehaviourInput } from '../../modules/finance/sandbox/behaviours';
import { eventually } from '../support/api-server';
import { services } from '../support/fixtures';
import type { CaseContext, PhasedOrder } from './kit';

/**
 * Where a case's outcomes are read, never through the workflow: the money at the provider (the
 * sandbox's own books, finance_sandbox.*) and in finance (payments, refunds, the journal), stock,
 * coupon, points, and the orders.orders projection.
 */
export interface ProjectedOrder {
  status: string;
  refundedFen: number;
  view: PhasedOrder;
}

export interface ProviderMovement {
  kind: 'capture' | 'refund';
  amountFen: number;
  intentId: string;
}

export function bookReads(context: () => CaseContext) {
  const env = () => context().env;
  const finance = () => createFinanceService({ pool: env().pool, provider: context().api.sandbox });
  const reads = {
    sandbox: () => context().api.sandbox,
    intent: (intentId: string) => context().api.sandbox.getIntent(intentId),
    addBehaviour: (behaviour: BehaviourInput) => context().api.sandbox.addBehaviour(behaviour),
    clearBehaviours: () => context().api.sandbox.clearBehaviours(),
    /** Uses left of a scripted behaviour (null: unlimited, while it exists). */
    async behaviourRemaining(id: number): Promise<number | null> {
      const rows = await env().pool.query<{ remaining: number | null }>('SELECT remaining FROM finance_sandbox.behaviours WHERE id = $1', [id]);
      return rows.rows[0]?.remaining ?? null;
    },
    /** Waits until the provider met the scripted behaviour `times` times (the call it scripts is under way). */
    waitForBehaviourUse(id: number, count: number, times = 1, timeoutMs = 30_000): Promise<boolean> {
      return eventually(async () => ((await reads.behaviourRemaining(id)) ?? count) <= count - times ? true : undefined, timeoutMs, `behaviour ${id} to be used`);
    },
    /** Money that moved at the provider for the order: captures and refunds. */
    async providerTransactions(orderId: string): Promise<ProviderMovement[]> {
      const rows = await env().pool.query<{ kind: 'capture' | 'refund'; amount_fen: string; intent_id: string }>(
        `SELECT t.kind, t.amount_fen, t.intent_id FROM finance_sandbox.transactions t JOIN finance_sandbox.intents i ON i.id = t.intent_id
          WHERE i.order_id = $1 ORDER BY t.created_at, t.id`,
        [orderId],
      );
      return rows.rows.map((row): ProviderMovement => ({ kind: row.kind, amountFen: Number(row.amount_fen), intentId: row.intent_id }));
    },
    async providerTotals(orderId: string): Promise<{ capturedFen: number; refundedFen: number; refunds: number }> {
      const moved = await reads.providerTransactions(orderId);
      const sum = (kind: string) => moved.filter((row) => row.kind === kind).reduce((total, row) => total + row.amountFen, 0);
      return { capturedFen: sum('capture'), refundedFen: sum('refund'), refunds: moved.filter((row) => row.kind === 'refund').length };
    },
    async providerIntents(orderId: string) {
      const rows = await env().pool.query<{ id: string; amount_fen: string; status: string }>(
        'SELECT id, amount_fen, status FROM finance_sandbox.intents WHERE order_id = $1 ORDER BY created_at, id',
        [orderId],
      );
      return rows.rows.map((row) => ({ intentId: row.id, amountFen: Number(row.amount_fen), status: row.status }));
    },
    payments: (orderId: string) => finance().paymentsForOrder(orderId),
    async financeRefunds(orderId: string) {
      const rows = await env().pool.query<{ amount_fen: string; state: string; reason: string }>(
        'SELECT amount_fen, state, reason FROM finance.refunds WHERE order_id = $1 ORDER BY id',
        [orderId],
      );
      return rows.rows.map((row) => ({ amountFen: Number(row.amount_fen), state: row.state, reason: row.reason }));
    },
    /** The order's journal entries, each checked balanced (debits = credits). */
    async ledger(orderId: string) {
      const entries = await finance().entriesForOrder(orderId);
      for (const entry of entries) {
        const debits = entry.lines.reduce((sum, line) => sum + line.debitFen, 0);
        const credits = entry.lines.reduce((sum, line) => sum + line.creditFen, 0);
        expect(debits).toBe(credits);
      }
      return entries.map((entry) => ({ kind: entry.kind, amountFen: entry.lines.reduce((sum, line) => sum + line.debitFen, 0), lines: entry.lines }));
    },

    // --- the other modules and the projection -------------------------------------------------------

    stock: (skuId: string) => services(env().pool).inventory.getStock(skuId),
    coupon: async (couponId: string) => (await services(env().pool).marketing.findCoupon(couponId))?.state,
    points: async (memberId: string) => (await services(env().pool).member.getMember(memberId)).points,
    async projection(orderId: string): Promise<ProjectedOrder | undefined> {
      const rows = await env().pool.query<{ status: string; refunded_fen: string; view: PhasedOrder }>(
        'SELECT status, refunded_fen, view FROM orders.orders WHERE order_id = $1',
        [orderId],
      );
      const row = rows.rows[0];
      return row && { status: row.status, refundedFen: Number(row.refunded_fen), view: row.view };
    },
    /** Waits for the projection to show `status` (it is written by an activity after the change). */
    waitForProjection(orderId: string, status: string, check: (row: ProjectedOrder) => boolean = () => true, timeoutMs = 20_000): Promise<ProjectedOrder> {
      let last: ProjectedOrder | undefined;
      return eventually(async () => {
        last = await reads.projection(orderId);
        return last?.status === status && check(last) ? last : undefined;
      }, timeoutMs, `projection of ${orderId} to be ${status}`).catch((error: Error) => {
        const seen = last && { status: last.status, refundedFen: last.refundedFen, refunds: last.view.payment.refunds };
        throw new Error(`${error.message} (and its check); last row ${JSON.stringify(seen)}`);
      });
    },
  };
  return reads;
}
