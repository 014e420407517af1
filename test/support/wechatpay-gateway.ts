import { createCipheriv, createSign, createVerify, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

/**
 * A local stand-in for WeChat Pay APIv3 (Native), speaking its real protocol: each request's
 * WECHATPAY2-SHA256-RSA2048 Authorization is verified with the merchant public key, every answer is
 * signed with the platform key (Wechatpay-Timestamp/Nonce/Serial/Signature), and notifications are
 * signed and carry their resource encrypted with the APIv3 key (AEAD_AES_256_GCM). Keys per run.
 * Tests only: nothing in the engine imports this file.
 */
export interface WechatTrade {
  outTradeNo: string;
  transactionId: string;
  orderId: string;
  total: number;
  appid: string;
  mchid: string;
  state: 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND';
  notifyUrl: string;
  successTime?: Date;
  refunds: Map<string, { refundId: string; fen: number }>;
}

export interface WechatDelivery {
  body: Record<string, unknown>;
  status: number;
}

export interface WechatPayOptions {
  delayMs?: number;
  duplicates?: number;
  badSignature?: boolean;
  /** Announce this amount.total (fen) instead of the trade's, validly signed and encrypted. */
  total?: number;
  silent?: boolean;
}

export interface WechatpayGateway {
  baseUrl: string;
  mchid: string;
  appid: string;
  merchantSerial: string;
  merchantPrivateKey: string;
  platformSerial: string;
  platformPublicKey: string;
  apiV3Key: string;
  trades: Map<string, WechatTrade>;
  calls: { method: string; path: string; answered: number }[];
  deliveries: WechatDelivery[];
  pay(outTradeNo: string, options?: WechatPayOptions): Promise<void>;
  notifyUnknownTrade(notifyUrl: string, total: number): Promise<WechatDelivery>;
  /** The next `count` calls whose path starts with `path` answer HTTP 500, before or after taking effect. */
  failNext(options: { path?: string; count?: number; phase?: 'before' | 'after' }): void;
  settle(): Promise<void>;
  close(): Promise<void>;
}

const pem = (key: KeyObject, type: 'pkcs8' | 'spki') => key.export({ format: 'pem', type }).toString();

export async function startWechatpayGateway(options: { retryDelayMs?: number; maxAttempts?: number } = {}): Promise<WechatpayGateway> {
  const mchid = `19000${randomBytes(3).readUIntBE(0, 3)}`;
  const appid = `wx${randomBytes(8).toString('hex')}`;
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const impostor = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const merchantSerial = randomBytes(20).toString('hex').toUpperCase();
  const platformSerial = `PUB_KEY_ID_${randomBytes(12).toString('hex').toUpperCase()}`;
  const apiV3Key = randomBytes(16).toString('hex');
  const trades = new Map<string, WechatTrade>();
  const calls: WechatpayGateway['calls'] = [];
  const deliveries: WechatDelivery[] = [];
  const failures: { path?: string; remaining: number; phase: 'before' | 'after' }[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  let sequence = 0;

  const sign = (message: string, key: KeyObject = platform.privateKey) => createSign('RSA-SHA256').update(message).sign(key, 'base64');
  const signedHeaders = (body: string, key?: KeyObject) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    return {
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Serial': platformSerial,
      'Wechatpay-Signature': sign(`${timestamp}\n${nonce}\n${body}\n`, key),
    };
  };
  const encrypt = (plain: string) => {
    const nonce = randomBytes(6).toString('hex');
    const cipher = createCipheriv('aes-256-gcm', apiV3Key, nonce).setAAD(Buffer.from('transaction'));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
    return { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext, associated_data: 'transaction', nonce };
  };
  const takeFailure = (path: string, phase: 'before' | 'after') => {
    const failure = failures.find((candidate) => candidate.remaining > 0 && candidate.phase === phase && (!candidate.path || path.startsWith(candidate.path)));
    if (failure) failure.remaining -= 1;
    return Boolean(failure);
  };
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  };

  function transaction(trade: Pick<WechatTrade, 'outTradeNo' | 'transactionId' | 'total' | 'state' | 'successTime' | 'appid' | 'mchid'>, total = trade.total) {
    return {
      appid: trade.appid,
      mchid: trade.mchid,
      out_trade_no: trade.outTradeNo,
      transaction_id: trade.transactionId,
      trade_type: 'NATIVE',
      trade_state: trade.state,
      trade_state_desc: trade.state === 'SUCCESS' ? '支付成功' : trade.state,
      bank_type: 'OTHERS',
      ...(trade.successTime ? { success_time: trade.successTime.toISOString().replace('Z', '+00:00') } : {}),
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
      amount: { total, payer_total: total, currency: 'CNY', payer_currency: 'CNY' },
    };
  }

  async function deliver(notifyUrl: string, body: Record<string, unknown>, key?: KeyObject): Promise<WechatDelivery> {
    let last: WechatDelivery = { body, status: 0 };
    for (let attempt = 0; attempt < (options.maxAttempts ?? 5) && !closed; attempt += 1) {
      const text = JSON.stringify(body);
      try {
        const response = await fetch(notifyUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(text, key) }, body: text, signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        last = { body, status: response.status };
      } catch {
        last = { body, status: 0 };
      }
      deliveries.push(last);
      if (last.status === 200 || last.status === 204 || last.status === 401) return last;
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 200));
    }
    return last;
  }

  function notification(eventType: string, resource: object) {
    return { id: randomUUID(), create_time: new Date().toISOString(), resource_type: 'encrypt-resource', event_type: eventType, summary: '支付成功', resource: encrypt(JSON.stringify(resource)) };
  }

  type Answer = { status: number; body?: Record<string, unknown>; text?: string };
  const error = (status: number, code: string, message: string): Answer => ({ status, body: { code, message } });

  /** The trade bill of a Beijing date: header, backtick-prefixed rows, summary (as WeChat Pay writes it). */
  function tradeBill(date: string): string {
    const beijing = (at: Date) => new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const yuan = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
    const header = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
    const rows: string[] = [];
    for (const trade of trades.values()) {
      if (!trade.successTime) continue;
      const cells = (state: string, refund?: { refundId: string; fen: number; outRefundNo: string }) =>
        [beijing(trade.successTime!), trade.appid, trade.mchid, '0', '', trade.transactionId, trade.outTradeNo, 'oUpF8uMuAJO', 'NATIVE', state, 'OTHERS', 'CNY', yuan(trade.total), '0.00', refund?.refundId ?? '0', refund?.outRefundNo ?? '0', yuan(refund?.fen ?? 0), '0.00', refund ? 'ORIGINAL' : '', refund ? 'SUCCESS' : '', `Order ${trade.orderId}`, trade.orderId, '0.00000', '0.60%', yuan(trade.total), yuan(refund?.fen ?? 0), '']
          .map((cell) => `\`${cell}`)
          .join(',');
      rows.push(cells('SUCCESS'));
      for (const [outRefundNo, refund] of trade.refunds) rows.push(cells('REFUND', { ...refund, outRefundNo }));
    }
    const onDate = rows.filter((row) => row.slice(1, 11) === date);
    return `\uFEFF${[header, ...onDate, '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额', `\`${onDate.length},\`0.00,\`0.00,\`0.00,\`0.00000,\`0.00,\`0.00`].join('\r\n')}\r\n`;
  }

  function handle(method: string, path: string, body: Record<string, unknown>, query: URLSearchParams): Answer {
    if (method === 'GET' && path === '/v3/bill/tradebill') {
      const date = query.get('bill_date') ?? '';
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return error(400, 'PARAM_ERROR', 'bill_date');
      return { status: 200, body: { hash_type: 'SHA1', hash_value: '0', download_url: `${baseUrl}v3/billdownload/file?token=${date}` } };
    }
    if (method === 'GET' && path === '/v3/billdownload/file') return { status: 200, text: tradeBill(query.get('token') ?? '') };
    const tradeMatch = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)(\/close)?$/.exec(path);
    if (method === 'POST' && path === '/v3/pay/transactions/native') {
      const outTradeNo = String(body.out_trade_no ?? '');
      const total = Number((body.amount as { total?: number } | undefined)?.total);
      if (body.mchid !== mchid || body.appid !== appid) return error(400, 'MCH_NOT_EXISTS', '商户号不存在');
      if (!/^[A-Za-z0-9_\-|*]{6,32}$/.test(outTradeNo) || !Number.isInteger(total) || total <= 0) return error(400, 'PARAM_ERROR', '参数错误');
      const known = trades.get(outTradeNo);
      if (known && known.total !== total) return error(400, 'INVALID_REQUEST', '201 商户订单号重复');
      if (!known) {
        trades.set(outTradeNo, { outTradeNo, orderId: String(body.attach ?? ''), transactionId: `42000${Date.now()}${String((sequence += 1)).padStart(4, '0')}`, total, appid, mchid, state: 'NOTPAY', notifyUrl: String(body.notify_url ?? ''), refunds: new Map() });
      }
      return { status: 200, body: { code_url: `weixin://wxpay/bizpayurl?pr=${trades.get(outTradeNo)!.transactionId.slice(-7)}` } };
    }
    if (tradeMatch && method === 'GET') {
      const trade = trades.get(decodeURIComponent(tradeMatch[1]));
      return trade ? { status: 200, body: transaction(trade) } : error(404, 'ORDER_NOT_EXIST', '订单不存在');
    }
    if (tradeMatch && method === 'POST' && tradeMatch[2]) {
      const trade = trades.get(decodeURIComponent(tradeMatch[1]));
      if (!trade) return error(404, 'ORDER_NOT_EXIST', '订单不存在');
      if (trade.state === 'SUCCESS' || trade.state === 'REFUND') return error(400, 'ORDERPAID', '订单已支付');
      trade.state = 'CLOSED';
      return { status: 204 };
    }
    if (method === 'POST' && path === '/v3/refund/domestic/refunds') {
      const trade = trades.get(String(body.out_trade_no ?? ''));
      const outRefundNo = String(body.out_refund_no ?? '');
      const amount = body.amount as { refund?: number; total?: number } | undefined;
      if (!trade) return error(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
      const earlier = trade.refunds.get(outRefundNo);
      const refundBody = (refund: { refundId: string; fen: number }) => ({
        refund_id: refund.refundId,
        out_refund_no: outRefundNo,
        transaction_id: trade.transactionId,
        out_trade_no: trade.outTradeNo,
        status: 'SUCCESS',
        amount: { total: trade.total, refund: refund.fen, currency: 'CNY' },
      });
      if (earlier) return earlier.fen === amount?.refund ? { status: 200, body: refundBody(earlier) } : error(400, 'INVALID_REQUEST', '请求参数与原请求不一致');
      const refunded = [...trade.refunds.values()].reduce((sum, refund) => sum + refund.fen, 0);
      if (trade.state !== 'SUCCESS' && trade.state !== 'REFUND') return error(400, 'INVALID_REQUEST', '订单未支付');
      if (amount?.total !== trade.total) return error(400, 'PARAM_ERROR', '订单金额不一致');
      if (!Number.isInteger(amount?.refund) || amount!.refund! <= 0 || amount!.refund! > trade.total - refunded) return error(403, 'NOT_ENOUGH', '可退金额不足');
      const refund = { refundId: `50300${Date.now()}${String((sequence += 1)).padStart(4, '0')}`, fen: amount!.refund! };
      trade.refunds.set(outRefundNo, refund);
      trade.state = 'REFUND';
      return { status: 200, body: refundBody(refund) };
    }
    const refundMatch = /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/.exec(path);
    if (refundMatch && method === 'GET') {
      for (const trade of trades.values()) {
        const refund = trade.refunds.get(decodeURIComponent(refundMatch[1]));
        if (refund) return { status: 200, body: { refund_id: refund.refundId, out_refund_no: decodeURIComponent(refundMatch[1]), out_trade_no: trade.outTradeNo, status: 'SUCCESS', amount: { total: trade.total, refund: refund.fen, currency: 'CNY' } } };
      }
      return error(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    }
    return error(404, 'NOT_FOUND', `no such API ${method} ${path}`);
  }

  const server = express();
  server.use(express.raw({ type: '*/*', limit: '256kb' }));
  server.use((req, res) => {
    const url = new URL(req.originalUrl, 'http://gateway');
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const fields = Object.fromEntries([...(req.get('authorization') ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]));
    const message = `${req.method}\n${url.pathname}${url.search}\n${fields.timestamp}\n${fields.nonce_str}\n${raw}\n`;
    const authentic =
      (req.get('authorization') ?? '').startsWith('WECHATPAY2-SHA256-RSA2048 ') &&
      fields.mchid === mchid &&
      fields.serial_no === merchantSerial &&
      Math.abs(Number(fields.timestamp) - Date.now() / 1000) < 300 &&
      createVerify('RSA-SHA256').update(message).verify(merchant.publicKey, fields.signature ?? '', 'base64');
    const reply = (answer: Answer) => {
      calls.push({ method: req.method, path: url.pathname, answered: answer.status });
      const text = answer.text ?? (answer.body ? JSON.stringify(answer.body) : '');
      res.status(answer.status).set(signedHeaders(text));
      if (answer.text !== undefined) res.type('text/csv; charset=utf-8').send(Buffer.from(text, 'utf8'));
      else if (answer.body) res.type('application/json').send(text);
      else res.end();
    };
    if (takeFailure(url.pathname, 'before')) return reply(error(500, 'SYSTEM_ERROR', '系统错误'));
    if (!authentic) return reply(error(401, 'SIGN_ERROR', '签名错误'));
    let body: Record<string, unknown> = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      return reply(error(400, 'PARAM_ERROR', 'not JSON'));
    }
    const answer = handle(req.method, url.pathname, body, url.searchParams);
    reply(takeFailure(url.pathname, 'after') ? error(500, 'SYSTEM_ERROR', '系统错误') : answer);
  });

  const listening = http.createServer(server);
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/`;

  return {
    baseUrl,
    mchid,
    appid,
    merchantSerial,
    merchantPrivateKey: pem(merchant.privateKey, 'pkcs8'),
    platformSerial,
    platformPublicKey: pem(platform.publicKey, 'spki'),
    apiV3Key,
    trades,
    calls,
    deliveries,
    async pay(outTradeNo, payOptions = {}) {
      const trade = trades.get(outTradeNo);
      if (!trade) throw new Error(`no order ${outTradeNo} at the gateway`);
      if (trade.state !== 'NOTPAY') throw new Error(`order ${outTradeNo} is ${trade.state}: cannot be paid`);
      trade.state = 'SUCCESS';
      trade.successTime = new Date();
      if (payOptions.silent) return;
      const body = notification('TRANSACTION.SUCCESS', transaction(trade, payOptions.total));
      const work = (async () => {
        if (payOptions.delayMs) await new Promise((resolve) => setTimeout(resolve, payOptions.delayMs));
        await Promise.all(Array.from({ length: 1 + (payOptions.duplicates ?? 0) }, () => deliver(trade.notifyUrl, body, payOptions.badSignature ? impostor.privateKey : undefined)));
      })();
      await (payOptions.delayMs ? (track(work), undefined) : track(work));
    },
    notifyUnknownTrade(notifyUrl, total) {
      const body = notification('TRANSACTION.SUCCESS', transaction({ outTradeNo: `wx_unknown_${randomBytes(4).toString('hex')}`, transactionId: `42000${Date.now()}`, total, state: 'SUCCESS', successTime: new Date(), appid, mchid }));
      return track(deliver(notifyUrl, body));
    },
    failNext({ path, count = 1, phase = 'before' }) {
      failures.push({ path, remaining: count, phase });
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
