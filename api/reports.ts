import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createReportsService, daySchema, weekOfDay, weekSchema } from '../modules/reports';
import { requireRole } from './auth';
import { sendCsv, toCsv, wantsCsv } from './csv';
import { problemResponse, registry } from './openapi';

/**
 * Reports (报表) as the roll-ups stored them: JSON, or CSV for a spreadsheet. A day that was never
 * rolled up answers zeros with `rolledUpAt: null`. Merchants and admins see them; the trial
 * balance is for finance (and admin).
 */
const format = z.enum(['json', 'csv']).optional();
const DayQuery = z.strictObject({ date: daySchema.optional(), format, top: z.coerce.number().int().min(1).max(100).optional() });
const WeekQuery = z.strictObject({ week: weekSchema.optional(), format });

const security: Record<string, string[]>[] = [{ apiKey: [] }, { bearerAuth: [] }];
for (const [path, summary, query] of [
  ['/reports/sales/daily', '销售日报: orders, buyers, GMV, paid, refunded, net, AOV; by order type, campaign, SKU, hour', DayQuery],
  ['/reports/members', '会员分析: new and returning buyers, repurchase 30/90 days, points, tiers', DayQuery],
  ['/reports/stock', '库存周报: on hand, reserved, sold, turnover days, low and out of stock per warehouse', WeekQuery],
  ['/reports/after-sales', 'After-sales: refund rate and amounts by reason and SKU, decisions', DayQuery],
  ['/reports/finance', 'Trial balance of the day and the reconciliation result (finance role)', DayQuery],
] as const) {
  registry.registerPath({
    method: 'get',
    path,
    summary,
    security,
    request: { query },
    responses: {
      200: { description: 'The report (JSON, or CSV with a UTF-8 BOM for Accept: text/csv or format=csv)' },
      400: problemResponse('Bad day, week or parameter'),
      403: problemResponse('Not a merchant, finance or admin'),
    },
  });
}

export function reportsRouter(deps: { pool: Pool; timeZone?: string }): Router {
  const router = Router();
  const reports = createReportsService({ pool: deps.pool, timeZone: deps.timeZone ?? 'Asia/Shanghai' });
  const reply = (req: Request, res: Response, csvFormat: string | undefined, filename: string, json: unknown, csv: () => string) => {
    if (wantsCsv(req, csvFormat)) sendCsv(res, filename, csv());
    else res.json(json);
  };

  router.get('/reports/sales/daily', requireRole('merchant', 'finance'), async (req, res) => {
    const query = DayQuery.parse(req.query);
    const sales = await reports.sales(query.date ?? reports.today(), query.top);
    const breakdown = (dimension: string, rows: typeof sales.topSkus) =>
      rows.map((row) => [sales.day, dimension, row.key, row.orders, null, row.units, row.gmvFen, null, null, null, null]);
    reply(req, res, query.format, `sales-${sales.day}.csv`, sales, () =>
      toCsv(
        ['day', 'dimension', 'key', 'orders', 'buyers', 'units', 'gmv_fen', 'paid_fen', 'refunded_fen', 'net_fen', 'aov_fen'],
        [
          [sales.day, 'total', '', sales.orders, sales.buyers, null, sales.gmvFen, sales.paidFen, sales.refundedFen, sales.netFen, sales.aovFen],
          ...breakdown('order_type', sales.byOrderType),
          ...breakdown('channel', sales.byChannel),
          ...breakdown('campaign', sales.byCampaign),
          ...breakdown('sku', sales.topSkus),
          ...breakdown('hour', sales.byHour),
        ],
      ),
    );
  });

  router.get('/reports/members', requireRole('merchant'), async (req, res) => {
    const query = DayQuery.parse(req.query);
    const members = await reports.members(query.date ?? reports.today());
    reply(req, res, query.format, `members-${members.day}.csv`, members, () =>
      toCsv(['day', 'metric', 'value'], [
        ['buyers', members.buyers],
        ['new_buyers', members.newBuyers],
        ['returning_buyers', members.returningBuyers],
        ['repurchase_30d_rate', members.repurchase30d.rate],
        ['repurchase_90d_rate', members.repurchase90d.rate],
        ['points_issued', members.pointsIssued],
        ['points_redeemed', members.pointsRedeemed],
        ...Object.entries(members.tiers).map(([tier, count]) => [`tier_${tier}`, count]),
      ].map((row) => [members.day, ...row])),
    );
  });

  router.get('/reports/stock', requireRole('merchant'), async (req, res) => {
    const query = WeekQuery.parse(req.query);
    const stock = await reports.stock(query.week ?? weekOfDay(reports.today()));
    reply(req, res, query.format, `stock-${stock.week}.csv`, stock, () =>
      toCsv(
        ['week', 'warehouse_id', 'sku_id', 'on_hand', 'reserved', 'sold', 'turnover_days', 'status'],
        stock.rows.map((row) => [stock.week, row.warehouseId, row.skuId, row.onHand, row.reserved, row.sold, row.turnoverDays, row.status]),
      ),
    );
  });

  router.get('/reports/after-sales', requireRole('merchant', 'support'), async (req, res) => {
    const query = DayQuery.parse(req.query);
    const report = await reports.afterSales(query.date ?? reports.today());
    reply(req, res, query.format, `after-sales-${report.day}.csv`, report, () =>
      toCsv(['day', 'dimension', 'key', 'requests', 'requested_fen', 'refunded_fen'], [
        [report.day, 'total', '', report.requests, null, report.refundedFen],
        ...report.byReason.map((row) => [report.day, 'reason', row.key, row.requests, row.requestedFen, row.refundedFen]),
        ...report.bySku.map((row) => [report.day, 'sku', row.key, row.requests, row.requestedFen, row.refundedFen]),
      ]),
    );
  });

  router.get('/reports/finance', requireRole('finance'), async (req, res) => {
    const query = DayQuery.parse(req.query);
    const report = await reports.finance(query.date ?? reports.today());
    reply(req, res, query.format, `trial-balance-${report.day}.csv`, report, () =>
      toCsv(
        ['day', 'account', 'debit_fen', 'credit_fen', 'closing_debit_fen', 'closing_credit_fen'],
        report.accounts.map((row) => [report.day, row.account, row.debitFen, row.creditFen, row.closingDebitFen, row.closingCreditFen]),
      ),
    );
  });

  return router;
}
