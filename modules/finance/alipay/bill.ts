import { unzipSync } from 'fflate';
import iconv from 'iconv-lite';
import type { ProviderTransaction } from '../provider';
import { BEIJING_OFFSET_MS, fromBeijingTime, yuanToFen } from '../cny';

const DAY_MS = 86_400_000;

/** Columns of the trade bill's detail file (账务明细 "业务明细") that reconciliation reads. */
export const BILL_COLUMNS = {
  tradeNo: '支付宝交易号',
  outTradeNo: '商户订单号',
  kind: '业务类型',
  subject: '商品名称',
  finishedAt: '完成时间',
  amount: '订单金额（元）',
  refundRequestNo: '退款批次号/请求号',
} as const;

/**
 * The provider's transactions in [from, to), read from the daily trade bills: each Beijing date the
 * range touches is downloaded (a zip of GBK CSV files), the detail file parsed, rows filtered by time.
 * `billUrlFor` returns undefined for a day without a bill.
 */
export async function downloadBillTransactions(
  range: { from: Date; to: Date },
  billUrlFor: (billDate: string) => Promise<string | undefined>,
): Promise<ProviderTransaction[]> {
  const transactions: ProviderTransaction[] = [];
  for (let day = beijingDayStart(range.from); day < range.to.getTime(); day += DAY_MS) {
    const url = await billUrlFor(new Date(day + BEIJING_OFFSET_MS).toISOString().slice(0, 10));
    if (!url) continue;
    const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`bill download answered HTTP ${response.status}`);
    const rows = parseTradeBill(new Uint8Array(await response.arrayBuffer()));
    transactions.push(...rows.filter((tx) => Date.parse(tx.occurredAt) >= range.from.getTime() && Date.parse(tx.occurredAt) < range.to.getTime()));
  }
  return transactions;
}

/** Parses a trade bill zip: the detail CSV (not the summary), in GBK, '#' lines being comments. */
export function parseTradeBill(zip: Uint8Array): ProviderTransaction[] {
  const files = unzipSync(zip);
  const detailName = Object.keys(files).find((name) => name.includes('业务明细') && !name.includes('汇总'));
  if (!detailName) throw new Error(`the bill has no detail file (files: ${Object.keys(files).join(', ')})`);
  const lines = iconv
    .decode(Buffer.from(files[detailName]), 'gbk')
    .split(/\r?\n/)
    .filter((line) => line.trim() && !line.startsWith('#'));
  const [header, ...rows] = lines.map((line) => line.split(',').map((cell) => cell.trim()));
  const column = (name: string) => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`the bill has no column ${name}`);
    return index;
  };
  const at = Object.fromEntries(Object.entries(BILL_COLUMNS).map(([key, name]) => [key, column(name)])) as Record<keyof typeof BILL_COLUMNS, number>;
  return rows.map((cells) => {
    const refund = cells[at.kind] === '退款';
    const amountFen = yuanToFen(cells[at.amount]);
    if (amountFen === undefined) throw new Error(`unreadable bill amount "${cells[at.amount]}"`);
    return {
      transactionId: refund ? `${cells[at.tradeNo]}:${cells[at.refundRequestNo]}` : cells[at.tradeNo],
      kind: refund ? ('refund' as const) : ('capture' as const),
      intentId: cells[at.outTradeNo],
      orderId: /^Order (\S+)$/.exec(cells[at.subject])?.[1] ?? '',
      amountFen: Math.abs(amountFen),
      currency: 'CNY',
      occurredAt: fromBeijingTime(cells[at.finishedAt]),
    };
  });
}

function beijingDayStart(date: Date): number {
  const local = date.getTime() + BEIJING_OFFSET_MS;
  return local - (local % DAY_MS) - BEIJING_OFFSET_MS;
}
