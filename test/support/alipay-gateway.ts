import { createSign, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { zipSync } from 'fflate';
import iconv from 'iconv-lite';
import { fenToYuan, toBeijingTime, yuanToFen } from '../../modules/finance';

/**
 * A local stand-in for Alipay's open platform gateway (gateway.do, RSA2), speaking its real protocol:
 * it verifies each request's signature with the app public key we registered, answers with responses
 * signed by its own key, posts signed asynchronous notifications to the notify_url of the trade
 * (retrying until it reads `success`), and serves the daily trade bill as a GBK CSV zip. Keys are
 * generated per run, never stored. Tests only: nothing in the engine imports this file.
 */
export interface GatewayTrade {
  outTradeNo: string;
  tradeNo: string;
  totalFen: number;
  subject: string;
  status: 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED' | 'TRADE_FINISHED';
  notifyUrl: string;
  createdAt: Date;
  paidAt?: Date;
  refunds: Map<string, { fen: number; at: Date }>;
}

export interface NotificationDelivery {
  fields: Record<string, string>;
  status: number;
  body: string;
}

export interface PayOptions {
  /** Wait this long before the first notification (a late one arrives after the order gave up). */
  delayMs?: number;
  /** Send the same notification this many extra times (same notify_id), at once. */
  duplicates?: number;
  /** The trade states to announce, in this order (out-of-order: TRADE_FINISHED before TRADE_SUCCESS). */
  statuses?: GatewayTrade['status'][];
  /** Sign with a key that is not the gateway's. */
  badSignature?: boolean;
  /** Announce this total_amount instead of the trade's (validly signed). */
  totalAmount?: string;
  /** Pay without announcing it (the notification is lost). */
  silent?: boolean;
}

type Phase = 'before' | 'after';
interface Failure {
  method?: string;
  remaining: number;
  phase: Phase;
}

export interface AlipayGateway {
  /** https://openapi.alipay.com/gateway.do's stand-in. */
  gatewayUrl: string;
  appId: string;
  /** What the merchant configures: its app private key and Alipay's public key (PEM). */
  appPrivateKey: string;
  alipayPublicKey: string;
  trades: Map<string, GatewayTrade>;
  /** Every call's method and biz_content, in order. */
  calls: { method: string; biz: Record<string, string>; answered: number }[];
  deliveries: NotificationDelivery[];
  /** The buyer scans the QR code and pays: the trade succeeds and a notification is sent. */
  pay(outTradeNo: string, options?: PayOptions): Promise<void>;
  /** Sends a validly signed notification about a trade this gateway never had. */
  notifyUnknownTrade(notifyUrl: string, totalAmount: string): Promise<NotificationDelivery>;
  /** The next `count` calls (of `method`, when given) answer HTTP 500, before or after taking effect. */
  failNext(options: { method?: string; count?: number; phase?: Phase }): void;
  /** An extra bill line (a transaction the merchant never booked): reconciliation must find it. */
  injectBillRow(row: { tradeNo: string; outTradeNo: string; subject: string; kind: '交易' | '退款'; amountFen: number; at: Date; refundRequestNo?: string }): void;
  /** Waits for notifications in flight. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const keyPem = (key: KeyObject, type: 'pkcs1' | 'spki') => key.export({ format: 'pem', type }).toString();

export async function startAlipayGateway(options: { appId?: string; retryDelayMs?: number; maxAttempts?: number } = {}): Promise<AlipayGateway> {
  const appId = options.appId ?? `20210000${randomBytes(4).readUInt32BE(0)}`;
  const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const alipay = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const impostor = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const trades = new Map<string, GatewayTrade>();
  const calls: AlipayGateway['calls'] = [];
  const deliveries: NotificationDelivery[] = [];
  const failures: Failure[] = [];
  const extraBillRows: Parameters<AlipayGateway['injectBillRow']>[0][] = [];
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  let sequence = 0;

  const signText = (text: string, key: KeyObject = alipay.privateKey) => createSign('RSA-SHA256').update(text, 'utf8').sign(key, 'base64');
  const signedContent = (fields: Record<string, string>, without: string[]) =>
    Object.keys(fields)
      .filter((name) => !without.includes(name) && fields[name] !== '')
      .sort()
      .map((name) => `${name}=${fields[name]}`)
      .join('&');

  function takeFailure(method: string, phase: Phase): boolean {
    const failure = failures.find((candidate) => candidate.remaining > 0 && candidate.phase === phase && (!candidate.method || candidate.method === method));
    if (!failure) return false;
    failure.remaining -= 1;
    return true;
  }

  /** Posts a notification until it reads `success` (bounded attempts), as Alipay does. */
  async function deliver(notifyUrl: string, fields: Record<string, string>): Promise<NotificationDelivery> {
    let last: NotificationDelivery = { fields, status: 0, body: '' };
    for (let attempt = 0; attempt < (options.maxAttempts ?? 5) && !closed; attempt += 1) {
      try {
        const response = await fetch(notifyUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
          body: new URLSearchParams(fields).toString(),
          signal: AbortSignal.timeout(10_000),
        });
        last = { fields, status: response.status, body: await response.text() };
      } catch (error) {
        last = { fields, status: 0, body: String(error) };
      }
      deliveries.push(last);
      if (last.status === 200 && last.body === 'success') return last;
      // A signature the merchant refuses will not get better by retrying.
      if (last.status === 401) return last;
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 200));
    }
    return last;
  }

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  function notification(trade: Pick<GatewayTrade, 'outTradeNo' | 'tradeNo' | 'subject' | 'createdAt' | 'paidAt'>, status: string, totalAmount: string, extra: Record<string, string> = {}) {
    const now = new Date();
    const fields: Record<string, string> = {
      notify_time: toBeijingTime(now),
      notify_type: 'trade_status_sync',
      notify_id: `2026${Date.now()}${(sequence += 1)}${randomBytes(3).toString('hex')}`,
      charset: 'utf-8',
      version: '1.0',
      sign_type: 'RSA2',
      app_id: appId,
      auth_app_id: appId,
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      trade_status: status,
      total_amount: totalAmount,
      receipt_amount: totalAmount,
      buyer_pay_amount: totalAmount,
      subject: trade.subject,
      gmt_create: toBeijingTime(trade.createdAt),
      ...(trade.paidAt ? { gmt_payment: toBeijingTime(trade.paidAt) } : {}),
      buyer_id: '2088102177846880',
      seller_id: '2088101117955611',
      ...extra,
    };
    return fields;
  }

  function sign(fields: Record<string, string>, key?: KeyObject): Record<string, string> {
    return { ...fields, sign: signText(signedContent(fields, ['sign', 'sign_type']), key) };
  }

  function answer(res: express.Response, method: string, body: Record<string, unknown>): void {
    const responseKey = `${method.replaceAll('.', '_')}_response`;
    const inner = JSON.stringify(body);
    res.type('application/json; charset=utf-8').send(`{"${responseKey}":${inner},"sign":"${signText(inner)}"}`);
  }

  const businessFailure = (subCode: string, subMsg: string) => ({ code: '40004', msg: 'Business Failed', sub_code: subCode, sub_msg: subMsg });

  function handle(method: string, biz: Record<string, string>, params: Record<string, string>): Record<string, unknown> {
    const trade = biz.out_trade_no ? trades.get(biz.out_trade_no) : undefined;
    const now = new Date();
    switch (method) {
      case 'alipay.trade.precreate': {
        const totalFen = yuanToFen(biz.total_amount);
        if (!biz.out_trade_no || totalFen === undefined || totalFen <= 0) return { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-parameter', sub_msg: 'bad out_trade_no or total_amount' };
        if (trade) {
          if (trade.totalFen !== totalFen) return businessFailure('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改');
          if (trade.status !== 'WAIT_BUYER_PAY') return businessFailure('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
        } else {
          trades.set(biz.out_trade_no, {
            outTradeNo: biz.out_trade_no,
            tradeNo: `2026${String(Date.now()).slice(-10)}${String((sequence += 1)).padStart(6, '0')}`,
            totalFen,
            subject: biz.subject ?? '',
            status: 'WAIT_BUYER_PAY',
            notifyUrl: params.notify_url ?? '',
            createdAt: now,
            refunds: new Map(),
          });
        }
        return { code: '10000', msg: 'Success', out_trade_no: biz.out_trade_no, qr_code: `https://qr.alipay.com/bax${trades.get(biz.out_trade_no)!.tradeNo}` };
      }
      case 'alipay.trade.query':
        if (!trade) return businessFailure('ACQ.TRADE_NOT_EXIST', '交易不存在');
        return {
          code: '10000',
          msg: 'Success',
          trade_no: trade.tradeNo,
          out_trade_no: trade.outTradeNo,
          trade_status: trade.status,
          total_amount: fenToYuan(trade.totalFen),
          ...(trade.paidAt ? { send_pay_date: toBeijingTime(trade.paidAt), buyer_pay_amount: fenToYuan(trade.totalFen) } : {}),
        };
      case 'alipay.trade.close':
        if (!trade) return businessFailure('ACQ.TRADE_NOT_EXIST', '交易不存在');
        if (trade.status !== 'WAIT_BUYER_PAY') return businessFailure('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
        trade.status = 'TRADE_CLOSED';
        return { code: '10000', msg: 'Success', trade_no: trade.tradeNo, out_trade_no: trade.outTradeNo };
      case 'alipay.trade.refund': {
        if (!trade) return businessFailure('ACQ.TRADE_NOT_EXIST', '交易不存在');
        const fen = yuanToFen(biz.refund_amount);
        const requestNo = biz.out_request_no ?? trade.outTradeNo;
        const refundedFen = () => [...trade.refunds.values()].reduce((sum, refund) => sum + refund.fen, 0);
        const earlier = trade.refunds.get(requestNo);
        if (earlier) {
          if (earlier.fen !== fen) return businessFailure('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额与原请求不一致');
          return { code: '10000', msg: 'Success', trade_no: trade.tradeNo, out_trade_no: trade.outTradeNo, fund_change: 'N', refund_fee: fenToYuan(refundedFen()) };
        }
        if (trade.status !== 'TRADE_SUCCESS') return businessFailure('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
        if (fen === undefined || fen <= 0 || fen > trade.totalFen - refundedFen()) return businessFailure('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限');
        trade.refunds.set(requestNo, { fen, at: now });
        if (refundedFen() === trade.totalFen) trade.status = 'TRADE_CLOSED';
        if (trade.notifyUrl) {
          const fields = notification(trade, trade.status, fenToYuan(trade.totalFen), {
            refund_fee: fenToYuan(refundedFen()),
            out_biz_no: requestNo,
            gmt_refund: toBeijingTime(now),
          });
          void track(deliver(trade.notifyUrl, sign(fields)));
        }
        return {
          code: '10000',
          msg: 'Success',
          trade_no: trade.tradeNo,
          out_trade_no: trade.outTradeNo,
          fund_change: 'Y',
          refund_fee: fenToYuan(refundedFen()),
          gmt_refund_pay: toBeijingTime(now),
        };
      }
      case 'alipay.trade.fastpay.refund.query': {
        const refund = trade?.refunds.get(biz.out_request_no ?? '');
        if (!trade || !refund) return { code: '10000', msg: 'Success' };
        return {
          code: '10000',
          msg: 'Success',
          trade_no: trade.tradeNo,
          out_trade_no: trade.outTradeNo,
          out_request_no: biz.out_request_no,
          total_amount: fenToYuan(trade.totalFen),
          refund_amount: fenToYuan(refund.fen),
          refund_status: 'REFUND_SUCCESS',
        };
      }
      case 'alipay.data.dataservice.bill.downloadurl.query':
        if (biz.bill_type !== 'trade' || !/^\d{4}-\d{2}-\d{2}$/.test(biz.bill_date ?? '')) {
          return { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-parameter', sub_msg: 'bill_type trade and bill_date yyyy-MM-dd' };
        }
        return { code: '10000', msg: 'Success', bill_download_url: `${baseUrl}/bills/${biz.bill_date}.csv.zip` };
      default:
        return { code: '40004', msg: 'Business Failed', sub_code: 'isv.invalid-method', sub_msg: `不存在的方法名 ${method}` };
    }
  }

  function bill(date: string): Uint8Array {
    const header = '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注';
    const line = (row: Parameters<AlipayGateway['injectBillRow']>[0], created: Date) => {
      const sign = row.kind === '退款' ? '-' : '';
      const amount = `${sign}${fenToYuan(row.amountFen)}`;
      return [row.tradeNo, row.outTradeNo, row.kind, row.subject, toBeijingTime(created), toBeijingTime(row.at), '', '', '', '', 'buyer@example.com', amount, amount, '0.00', '0.00', '0.00', '0.00', '0.00', '', '0.00', '0.00', row.refundRequestNo ?? '', '0.00', '0.00', ''].join(',');
    };
    const rows: string[] = [];
    for (const trade of trades.values()) {
      if (trade.paidAt) rows.push(line({ tradeNo: trade.tradeNo, outTradeNo: trade.outTradeNo, subject: trade.subject, kind: '交易', amountFen: trade.totalFen, at: trade.paidAt }, trade.createdAt));
      for (const [requestNo, refund] of trade.refunds) {
        rows.push(line({ tradeNo: trade.tradeNo, outTradeNo: trade.outTradeNo, subject: trade.subject, kind: '退款', amountFen: refund.fen, at: refund.at, refundRequestNo: requestNo }, trade.createdAt));
      }
    }
    for (const extra of extraBillRows) rows.push(line(extra, extra.at));
    const onDate = rows.filter((row) => row.split(',')[5].startsWith(date));
    const csv = ['#支付宝业务明细查询', `#账号：[20881011179556110156]`, `#起始日期：[${date} 00:00:00]   终止日期：[${date} 23:59:59]`, '#-----------------------------------------业务明细列表----------------------------------------', header, ...onDate, '#-----------------------------------------业务明细列表结束------------------------------------', `#导出时间：[${toBeijingTime(new Date())}]`].join('\r\n');
    const compact = date.replaceAll('-', '');
    return zipSync({
      [`20881011179556110156_${compact}_业务明细.csv`]: new Uint8Array(iconv.encode(csv, 'gbk')),
      [`20881011179556110156_${compact}_业务明细(汇总).csv`]: new Uint8Array(iconv.encode('#支付宝业务汇总查询\r\n', 'gbk')),
    });
  }

  const server = express();
  server.post('/gateway.do', express.urlencoded({ extended: false, limit: '256kb' }), (req, res) => {
    const params = { ...(req.query as Record<string, string>), ...(req.body as Record<string, string>) };
    const method = params.method ?? '';
    let biz: Record<string, string> = {};
    try {
      biz = params.biz_content ? JSON.parse(params.biz_content) : {};
    } catch {
      biz = {};
    }
    const verified =
      params.app_id === appId &&
      params.sign_type === 'RSA2' &&
      Boolean(params.sign) &&
      createVerify('RSA-SHA256').update(signedContent(params, ['sign']), 'utf8').verify(app.publicKey, params.sign, 'base64');
    if (takeFailure(method, 'before')) {
      calls.push({ method, biz, answered: 500 });
      res.status(500).send('Internal Server Error');
      return;
    }
    if (!verified) {
      calls.push({ method, biz, answered: 200 });
      answer(res, method, { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-signature', sub_msg: '验签出错' });
      return;
    }
    const body = handle(method, biz, params);
    if (takeFailure(method, 'after')) {
      calls.push({ method, biz, answered: 500 });
      res.status(500).send('Internal Server Error');
      return;
    }
    calls.push({ method, biz, answered: 200 });
    answer(res, method, body);
  });
  server.get('/bills/:file', (req, res) => {
    const date = /^(\d{4}-\d{2}-\d{2})\.csv\.zip$/.exec(String(req.params.file))?.[1];
    if (!date) {
      res.status(404).end();
      return;
    }
    res.type('application/zip').send(Buffer.from(bill(date)));
  });

  const listening = http.createServer(server);
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;

  return {
    gatewayUrl: `${baseUrl}/gateway.do`,
    appId,
    appPrivateKey: keyPem(app.privateKey, 'pkcs1'),
    alipayPublicKey: keyPem(alipay.publicKey, 'spki'),
    trades,
    calls,
    deliveries,
    async pay(outTradeNo, payOptions = {}) {
      const trade = trades.get(outTradeNo);
      if (!trade) throw new Error(`no trade ${outTradeNo} at the gateway`);
      if (trade.status !== 'WAIT_BUYER_PAY') throw new Error(`trade ${outTradeNo} is ${trade.status}: cannot be paid`);
      trade.status = 'TRADE_SUCCESS';
      trade.paidAt = new Date();
      if (payOptions.silent) return;
      const statuses = payOptions.statuses ?? ['TRADE_SUCCESS'];
      const work = (async () => {
        if (payOptions.delayMs) await new Promise((resolve) => setTimeout(resolve, payOptions.delayMs));
        for (const status of statuses) {
          const fields = sign(notification(trade, status, payOptions.totalAmount ?? fenToYuan(trade.totalFen)), payOptions.badSignature ? impostor.privateKey : undefined);
          await Promise.all(Array.from({ length: 1 + (payOptions.duplicates ?? 0) }, () => deliver(trade.notifyUrl, fields)));
        }
      })();
      await (payOptions.delayMs ? (track(work), undefined) : track(work));
    },
    notifyUnknownTrade(notifyUrl, totalAmount) {
      const now = new Date();
      const fields = notification({ outTradeNo: `pi_unknown_${randomBytes(4).toString('hex')}`, tradeNo: `2026${Date.now()}`, subject: 'Order ord_unknown', createdAt: now, paidAt: now }, 'TRADE_SUCCESS', totalAmount);
      return track(deliver(notifyUrl, sign(fields)));
    },
    failNext({ method, count = 1, phase = 'before' }) {
      failures.push({ method, remaining: count, phase });
    },
    injectBillRow(row) {
      extraBillRows.push(row);
    },
    async settle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      listening.closeAllConnections();
      await new Promise<void>((resolve) => listening.close(() => resolve()));
    },
  };
}
