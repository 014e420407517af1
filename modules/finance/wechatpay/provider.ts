import { createHash } from 'node:crypto';
import { Aes, Formatter, Rsa, Wechatpay } from 'wechatpay-axios-plugin';
import { DomainError } from '../../shared/errors';
import {
  ProviderUnavailableError,
  type CancelIntentRequest,
  type CaptureRequest,
  type CaptureResult,
  type CreateIntentRequest,
  type IntentResult,
  type PaymentProvider,
  type ProviderTransaction,
  type RefundRequest,
  type RefundResult,
} from '../provider';
import { fromBeijingTime, toBeijingTime, yuanToFen } from '../cny';

export interface WechatpayOptions {
  mchid: string;
  appid: string;
  /** Serial number of the merchant API certificate; the private key signs our requests. */
  merchantSerial: string;
  privateKey: string;
  /** WeChat Pay's platform certificate serial (or public key id) and its public key / certificate (PEM). */
  platformSerial: string;
  platformPublicKey: string;
  /** The APIv3 key (32 characters): decrypts notification resources (AEAD_AES_256_GCM). */
  apiV3Key: string;
  /** https://api.mch.weixin.qq.com/ or a local test gateway. */
  baseUrl: string;
  notifyUrl: string;
  timeoutMs?: number;
}

/** A decrypted TRANSACTION.* notification resource (the fields the payment gate reads). */
export interface WechatpayTransaction {
  mchid: string;
  appid: string;
  out_trade_no: string;
  transaction_id: string;
  trade_state: string;
  success_time?: string;
  amount: { total: number; currency: string };
}

/** Trade states in which the buyer's money reached the merchant (REFUND: paid, then refunded in part or whole). */
export const WECHATPAY_PAID_STATES = ['SUCCESS', 'REFUND'];
const NOTIFICATION_TOLERANCE_SECONDS = 300;

interface HttpFailure {
  response?: { status?: number; data?: { code?: string; message?: string } };
  code?: string;
  message?: string;
}

/**
 * WeChat Pay APIv3 (Native: the buyer scans a code_url) as our PaymentProvider, on
 * wechatpay-axios-plugin, which signs requests with the merchant key and verifies every answer with
 * the platform key. Like Alipay it takes the money on payment: capture confirms it with the order query.
 */
export function createWechatpayProvider(options: WechatpayOptions) {
  const wxpay = new Wechatpay({
    mchid: options.mchid,
    serial: options.merchantSerial,
    privateKey: options.privateKey,
    certs: { [options.platformSerial]: options.platformPublicKey },
    baseURL: options.baseUrl,
    timeout: options.timeoutMs ?? 10_000,
  } as ConstructorParameters<typeof Wechatpay>[0]);
  const v3 = (wxpay as unknown as { v3: Chain }).v3;
  const platformKey = Rsa.from(options.platformPublicKey, Rsa.KEY_TYPE_PUBLIC);

  /** Runs one call; transport trouble, 5xx and unverifiable answers are retryable, a 4xx answer is returned. */
  async function call<T>(what: string, run: () => Promise<{ data: T }>): Promise<{ ok: true; data: T } | { ok: false; status: number; code: string; message: string }> {
    try {
      return { ok: true, data: (await run()).data };
    } catch (error) {
      const failure = error as HttpFailure;
      const status = failure.response?.status ?? 0;
      const code = failure.response?.data?.code ?? failure.code ?? 'UNKNOWN';
      if (status === 0 || status >= 500 || code === 'SYSTEM_ERROR' || code === 'FREQUENCY_LIMITED' || code.startsWith('EV3_')) {
        throw new ProviderUnavailableError(`wechatpay ${what}: ${status} ${code} ${failure.response?.data?.message ?? failure.message ?? ''}`.trim());
      }
      return { ok: false, status, code, message: failure.response?.data?.message ?? '' };
    }
  }

  async function queryTrade(outTradeNo: string): Promise<WechatpayTransaction | undefined> {
    const answer = await call<WechatpayTransaction>('query', () =>
      v3.pay.transactions.outTradeNo.$out_trade_no$.get({ params: { mchid: options.mchid }, out_trade_no: outTradeNo }),
    );
    if (answer.ok) return answer.data;
    if (answer.code === 'ORDER_NOT_EXIST' || answer.code === 'RESOURCE_NOT_EXISTS') return undefined;
    throw new ProviderUnavailableError(`wechatpay query ${outTradeNo}: ${answer.status} ${answer.code} ${answer.message}`);
  }

  const provider: PaymentProvider = {
    async createPaymentIntent(request: CreateIntentRequest): Promise<IntentResult> {
      if (request.currency !== 'CNY') {
        throw new DomainError('PROVIDER_CURRENCY_UNSUPPORTED', `WeChat Pay takes CNY, not ${request.currency}`, { currency: request.currency });
      }
      const outTradeNo = wechatOutTradeNoFor(request.idempotencyKey);
      const answer = await call<{ code_url: string }>('native order', () =>
        v3.pay.transactions.native.post({
          appid: options.appid,
          mchid: options.mchid,
          description: `Order ${request.orderId}`,
          out_trade_no: outTradeNo,
          notify_url: options.notifyUrl,
          attach: request.orderId,
          amount: { total: request.amountFen, currency: 'CNY' },
        }),
      );
      if (!answer.ok) throw new ProviderUnavailableError(`wechatpay native order: ${answer.status} ${answer.code} ${answer.message}`);
      return { intentId: outTradeNo, status: 'requires_payment', checkout: { qrCode: answer.data.code_url } };
    },

    async cancelIntent(request: CancelIntentRequest): Promise<IntentResult> {
      const trade = await queryTrade(request.intentId);
      if (trade && WECHATPAY_PAID_STATES.includes(trade.trade_state)) {
        throw new DomainError('PROVIDER_INTENT_ALREADY_CAPTURED', `WeChat Pay order ${request.intentId} was paid: refund it instead`, { intentId: request.intentId });
      }
      if (trade && (trade.trade_state === 'NOTPAY' || trade.trade_state === 'USERPAYING')) {
        const closed = await call('close', () => v3.pay.transactions.outTradeNo.$out_trade_no$.close.post({ mchid: options.mchid }, { out_trade_no: request.intentId }));
        if (!closed.ok && closed.code !== 'ORDER_CLOSED') throw new ProviderUnavailableError(`wechatpay close: ${closed.status} ${closed.code} ${closed.message}`);
        // The buyer may have paid in the meantime: only a closed order counts as cancelled.
        const after = await queryTrade(request.intentId);
        if (after && WECHATPAY_PAID_STATES.includes(after.trade_state)) {
          throw new DomainError('PROVIDER_INTENT_ALREADY_CAPTURED', `WeChat Pay order ${request.intentId} was paid: refund it instead`, { intentId: request.intentId });
        }
      }
      return { intentId: request.intentId, status: 'cancelled' };
    },

    async capture(request: CaptureRequest): Promise<CaptureResult> {
      const trade = await queryTrade(request.intentId);
      if (!trade || !WECHATPAY_PAID_STATES.includes(trade.trade_state)) {
        throw new DomainError('PROVIDER_INTENT_NOT_CAPTURABLE', `WeChat Pay order ${request.intentId} is not paid (${trade?.trade_state ?? 'no order'})`, {
          intentId: request.intentId,
          tradeState: trade?.trade_state ?? null,
        });
      }
      return { captureId: trade.transaction_id, intentId: request.intentId, amountFen: trade.amount.total, status: 'succeeded' };
    },

    async refund(request: RefundRequest): Promise<RefundResult> {
      const outRefundNo = wechatOutRefundNoFor(request.idempotencyKey);
      const trade = await queryTrade(request.intentId);
      if (!trade) return { refundId: null, status: 'failed', failureReason: 'ORDER_NOT_EXIST' };
      const answer = await call<{ refund_id: string; status: string }>('refund', () =>
        v3.refund.domestic.refunds.post({
          out_trade_no: request.intentId,
          out_refund_no: outRefundNo,
          amount: { refund: request.amountFen, total: trade.amount.total, currency: 'CNY' },
        }),
      );
      if (!answer.ok) return { refundId: null, status: 'failed', failureReason: answer.code };
      let { status } = answer.data;
      if (status === 'PROCESSING') {
        const settled = await call<{ refund_id: string; status: string }>('refund query', () => v3.refund.domestic.refunds.$out_refund_no$.get({ out_refund_no: outRefundNo }));
        status = settled.ok ? settled.data.status : 'PROCESSING';
      }
      if (status === 'SUCCESS') return { refundId: answer.data.refund_id, status: 'succeeded' };
      if (status === 'PROCESSING') throw new ProviderUnavailableError(`wechatpay refund ${outRefundNo} still processing`);
      return { refundId: null, status: 'failed', failureReason: status };
    },

    async listTransactions(range: { from: Date; to: Date }): Promise<ProviderTransaction[]> {
      const transactions: ProviderTransaction[] = [];
      for (const billDate of beijingDates(range)) {
        const bill = await call<{ download_url: string }>('trade bill', () => v3.bill.tradebill.get({ params: { bill_date: billDate, bill_type: 'ALL' } }));
        if (!bill.ok) {
          if (bill.code === 'NO_STATEMENT_EXIST') continue;
          throw new ProviderUnavailableError(`wechatpay trade bill ${billDate}: ${bill.status} ${bill.code} ${bill.message}`);
        }
        const token = new URL(bill.data.download_url).searchParams.get('token') ?? '';
        const file = await call<ArrayBuffer>('bill download', () => v3.billdownload.file.get({ params: { token }, responseType: 'arraybuffer' }));
        if (!file.ok) throw new ProviderUnavailableError(`wechatpay bill download ${billDate}: ${file.status} ${file.code}`);
        transactions.push(...parseWechatTradeBill(Buffer.from(file.data)).filter((tx) => Date.parse(tx.occurredAt) >= range.from.getTime() && Date.parse(tx.occurredAt) < range.to.getTime()));
      }
      return transactions;
    },
  };

  return {
    ...provider,
    mchid: options.mchid,
    appid: options.appid,
    queryTrade,
    /**
     * Verifies a notification's platform signature over the exact body (and its freshness), then
     * decrypts its resource; undefined when either fails.
     */
    openNotification(headers: { timestamp?: string; nonce?: string; signature?: string; serial?: string }, rawBody: string): { eventId: string; eventType: string; transaction: WechatpayTransaction } | undefined {
      const { timestamp, nonce, signature, serial } = headers;
      if (!timestamp || !nonce || !signature || serial !== options.platformSerial) return undefined;
      if (!/^\d+$/.test(timestamp) || Math.abs(Number(timestamp) - Math.floor(Date.now() / 1000)) > NOTIFICATION_TOLERANCE_SECONDS) return undefined;
      if (!Rsa.verify(Formatter.response(timestamp, nonce, rawBody), signature, platformKey)) return undefined;
      try {
        const event = JSON.parse(rawBody) as { id: string; event_type: string; resource: { algorithm: string; ciphertext: string; nonce: string; associated_data?: string } };
        if (event.resource.algorithm !== 'AEAD_AES_256_GCM') return undefined;
        const plain = Aes.AesGcm.decrypt(event.resource.ciphertext, options.apiV3Key, event.resource.nonce, event.resource.associated_data ?? '');
        return { eventId: event.id, eventType: event.event_type, transaction: JSON.parse(plain) as WechatpayTransaction };
      } catch {
        return undefined;
      }
    },
  };
}

export type WechatpayProvider = ReturnType<typeof createWechatpayProvider>;

/**
 * The trade bill (bill_type ALL): a CSV whose cells start with a backtick, amounts in yuan, times in
 * Beijing time. A SUCCESS row is the payment (微信订单号), a REFUND row a refund (微信退款单号).
 */
export function parseWechatTradeBill(csv: Buffer): ProviderTransaction[] {
  const { rows } = Formatter.castCsvBill(csv) as { rows: Record<string, string>[] };
  return rows.map((row) => {
    const refund = row['交易状态'] === 'REFUND';
    const amountFen = yuanToFen(refund ? row['退款金额'] : row['订单金额']);
    if (amountFen === undefined) throw new Error(`unreadable WeChat bill amount in ${JSON.stringify(row)}`);
    return {
      transactionId: refund ? row['微信退款单号'] : row['微信订单号'],
      kind: refund ? ('refund' as const) : ('capture' as const),
      intentId: row['商户订单号'],
      orderId: row['商户数据包'] ?? '',
      amountFen: Math.abs(amountFen),
      currency: row['货币种类'] || 'CNY',
      occurredAt: fromBeijingTime(row['交易时间']),
    };
  });
}

/** The Beijing calendar dates a UTC range touches (bills are per Beijing day). */
function beijingDates(range: { from: Date; to: Date }): string[] {
  const dates: string[] = [];
  for (let at = range.from.getTime(); at < range.to.getTime() + 86_400_000; at += 86_400_000) {
    const date = toBeijingTime(new Date(Math.min(at, range.to.getTime() - 1))).slice(0, 10);
    if (!dates.includes(date)) dates.push(date);
  }
  return dates;
}

/** WeChat's out_trade_no: 6 to 32 of [A-Za-z0-9_-|*]; the same key always names the same order. */
export function wechatOutTradeNoFor(idempotencyKey: string): string {
  return `wx_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 29)}`;
}

/** Our refund key as out_refund_no when WeChat accepts it (64 of [A-Za-z0-9_-|*@]), else a digest. */
export function wechatOutRefundNoFor(idempotencyKey: string): string {
  return /^[A-Za-z0-9_\-|*@]{1,64}$/.test(idempotencyKey) ? idempotencyKey : `rf_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}

/** The SDK's chained client: each property is a path segment, `$name$` a placeholder, the verb last. */
interface Chain {
  [segment: string]: Chain & ((...args: unknown[]) => Promise<{ data: never }>);
}
