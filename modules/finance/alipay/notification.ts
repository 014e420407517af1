import { fromBeijingTime, yuanToFen } from '../cny';

/** An Alipay asynchronous notification (notify_type trade_status_sync), after its signature was verified. */
export interface AlipayNotification {
  notifyId: string;
  appId: string;
  outTradeNo: string;
  tradeNo: string;
  tradeStatus: string;
  /** Undefined when total_amount is missing or not a yuan amount: the gate refuses such a notification. */
  totalAmountFen: number | undefined;
  /** A refund's notification (refund_fee / out_biz_no present): it confirms what the engine asked for. */
  refund: boolean;
  /** When the buyer paid (gmt_payment), else when Alipay notified. */
  at: string;
}

/** The fields every trade notification carries; undefined when one is missing (not a trade notification). */
export function parseAlipayNotification(fields: Record<string, string>): AlipayNotification | undefined {
  const required = ['notify_id', 'app_id', 'out_trade_no', 'trade_no', 'trade_status', 'notify_time'];
  if (required.some((name) => typeof fields[name] !== 'string' || fields[name] === '')) return undefined;
  let at: string;
  try {
    at = fromBeijingTime(fields.gmt_payment || fields.notify_time);
  } catch {
    return undefined;
  }
  return {
    notifyId: fields.notify_id,
    appId: fields.app_id,
    outTradeNo: fields.out_trade_no,
    tradeNo: fields.trade_no,
    tradeStatus: fields.trade_status,
    totalAmountFen: yuanToFen(fields.total_amount),
    refund: Boolean(fields.refund_fee || fields.out_biz_no || fields.gmt_refund),
    at,
  };
}
