import { createHash } from 'node:crypto';
import { AlipaySdk, type AlipaySdkCommonResult } from 'alipay-sdk';
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
import { fenToYuan, yuanToFen } from '../cny';
import { downloadBillTransactions } from './bill';
import { privateKeyPem, publicKeyPem } from './keys';

export interface AlipayOptions {
  appId: string;
  /** The app's RSA private key (PEM or base64 body). */
  privateKey: string;
  /** Alipay's RSA public key (PEM or base64 body): verifies responses and notifications. */
  alipayPublicKey: string;
  /** https://openapi.alipay.com/gateway.do, Alipay's sandbox, or a local test gateway. */
  gateway: string;
  /** Where Alipay posts asynchronous notifications: <public API>/payments/alipay/notify. */
  notifyUrl: string;
  /** How long one gateway call may take. */
  timeoutMs?: number;
}

/** Trade states (alipay.trade.query trade_status) in which the buyer's money is with the merchant. */
export const PAID_TRADE_STATES = ['TRADE_SUCCESS', 'TRADE_FINISHED'];

/**
 * Alipay (open platform, gateway.do protocol, RSA2) as our PaymentProvider, on Alipay's own SDK.
 * - createPaymentIntent: alipay.trade.precreate; the buyer scans the returned QR code.
 * - capture: Alipay took the money when the buyer paid; capture confirms it with alipay.trade.query
 *   (idempotent: asking twice gives the same trade) and returns what was paid.
 * - cancelIntent: alipay.trade.close for an unpaid trade; a paid one is refused as already captured.
 * - refund: alipay.trade.refund with out_request_no derived from our refund key, so a retry is the
 *   same refund; an unclear answer is settled with alipay.trade.fastpay.refund.query.
 * - listTransactions: the daily trade bill (alipay.data.dataservice.bill.downloadurl.query).
 */
export function createAlipayProvider(options: AlipayOptions) {
  const sdk = new AlipaySdk({
    appId: options.appId,
    privateKey: privateKeyPem(options.privateKey),
    alipayPublicKey: publicKeyPem(options.alipayPublicKey),
    keyType: 'PKCS1',
    signType: 'RSA2',
    gateway: options.gateway,
    timeout: options.timeoutMs ?? 10_000,
    camelcase: false,
  });

  /** One signed gateway call with a verified answer; transport trouble is retryable, a business answer is returned. */
  async function call(method: string, params: Record<string, unknown>): Promise<AlipaySdkCommonResult> {
    let answer: AlipaySdkCommonResult;
    try {
      answer = await sdk.exec(method, params, { validateSign: true });
    } catch (error) {
      throw new ProviderUnavailableError(`alipay ${method}: ${(error as Error).message}`);
    }
    if (answer.code === '20000' || answer.sub_code === 'ACQ.SYSTEM_ERROR' || answer.sub_code === 'aop.ACQ.SYSTEM_ERROR') {
      throw new ProviderUnavailableError(`alipay ${method}: ${answer.sub_code ?? answer.code} ${answer.sub_msg ?? answer.msg}`);
    }
    return answer;
  }

  const failed = (method: string, answer: AlipaySdkCommonResult) =>
    new ProviderUnavailableError(`alipay ${method}: ${answer.code} ${answer.sub_code ?? ''} ${answer.sub_msg ?? answer.msg}`.trim());

  async function queryTrade(outTradeNo: string): Promise<AlipaySdkCommonResult | undefined> {
    const answer = await call('alipay.trade.query', { bizContent: { out_trade_no: outTradeNo } });
    if (answer.code === '10000') return answer;
    if (answer.sub_code === 'ACQ.TRADE_NOT_EXIST') return undefined;
    throw failed('alipay.trade.query', answer);
  }

  const provider: PaymentProvider = {
    async createPaymentIntent(request: CreateIntentRequest): Promise<IntentResult> {
      if (request.currency !== 'CNY') {
        throw new DomainError('PROVIDER_CURRENCY_UNSUPPORTED', `Alipay takes CNY, not ${request.currency}`, { currency: request.currency });
      }
      const outTradeNo = outTradeNoFor(request.idempotencyKey);
      const answer = await call('alipay.trade.precreate', {
        notify_url: options.notifyUrl,
        bizContent: { out_trade_no: outTradeNo, total_amount: fenToYuan(request.amountFen), subject: `Order ${request.orderId}` },
      });
      if (answer.code !== '10000') throw failed('alipay.trade.precreate', answer);
      return { intentId: outTradeNo, status: 'requires_payment', checkout: { qrCode: String(answer.qr_code) } };
    },

    async cancelIntent(request: CancelIntentRequest): Promise<IntentResult> {
      const answer = await call('alipay.trade.close', { notify_url: options.notifyUrl, bizContent: { out_trade_no: request.intentId } });
      // Never scanned (no trade yet) or closed before: nothing can be paid any more.
      if (answer.code === '10000' || answer.sub_code === 'ACQ.TRADE_NOT_EXIST') return { intentId: request.intentId, status: 'cancelled' };
      if (answer.sub_code === 'ACQ.TRADE_STATUS_ERROR') {
        const trade = await queryTrade(request.intentId);
        if (!trade || trade.trade_status === 'TRADE_CLOSED') return { intentId: request.intentId, status: 'cancelled' };
        if (PAID_TRADE_STATES.includes(String(trade.trade_status))) {
          throw new DomainError('PROVIDER_INTENT_ALREADY_CAPTURED', `Alipay trade ${request.intentId} was paid: refund it instead`, { intentId: request.intentId });
        }
      }
      throw failed('alipay.trade.close', answer);
    },

    async capture(request: CaptureRequest): Promise<CaptureResult> {
      const trade = await queryTrade(request.intentId);
      if (!trade || !PAID_TRADE_STATES.includes(String(trade.trade_status))) {
        throw new DomainError('PROVIDER_INTENT_NOT_CAPTURABLE', `Alipay trade ${request.intentId} is not paid (${trade?.trade_status ?? 'no trade'})`, {
          intentId: request.intentId,
          tradeStatus: trade?.trade_status ?? null,
        });
      }
      const amountFen = yuanToFen(String(trade.total_amount));
      if (amountFen === undefined) throw new Error(`Alipay trade ${request.intentId} has no readable total_amount`);
      return { captureId: String(trade.trade_no), intentId: request.intentId, amountFen, status: 'succeeded' };
    },

    async refund(request: RefundRequest): Promise<RefundResult> {
      const outRequestNo = outRequestNoFor(request.idempotencyKey);
      const answer = await call('alipay.trade.refund', {
        bizContent: { out_trade_no: request.intentId, refund_amount: fenToYuan(request.amountFen), out_request_no: outRequestNo },
      });
      if (answer.code !== '10000') {
        // A business refusal (trade not paid, amount over what is left, merchant balance short...): final.
        return { refundId: null, status: 'failed', failureReason: String(answer.sub_code ?? answer.code) };
      }
      const refundId = `${answer.trade_no}:${outRequestNo}`;
      if (answer.fund_change === 'Y') return { refundId, status: 'succeeded' };
      // fund_change N: this call moved no money (a repeat of a refund already made, or still processing): ask.
      const settled = await call('alipay.trade.fastpay.refund.query', { bizContent: { out_trade_no: request.intentId, out_request_no: outRequestNo } });
      if (settled.code === '10000' && settled.refund_status === 'REFUND_SUCCESS') {
        if (yuanToFen(String(settled.refund_amount)) !== request.amountFen) {
          throw new Error(`Alipay refund ${outRequestNo} is for ${settled.refund_amount} yuan, not ${fenToYuan(request.amountFen)}`);
        }
        return { refundId, status: 'succeeded' };
      }
      throw new ProviderUnavailableError(`alipay refund ${outRequestNo} not confirmed yet (${settled.refund_status ?? settled.sub_code ?? settled.code})`);
    },

    async listTransactions(range: { from: Date; to: Date }): Promise<ProviderTransaction[]> {
      return downloadBillTransactions(range, async (billDate) => {
        const answer = await call('alipay.data.dataservice.bill.downloadurl.query', { bizContent: { bill_type: 'trade', bill_date: billDate } });
        if (answer.code === '10000') return String(answer.bill_download_url);
        if (answer.sub_code === 'isp.bill_not_exist') return undefined;
        throw failed('alipay.data.dataservice.bill.downloadurl.query', answer);
      });
    },
  };

  return {
    ...provider,
    appId: options.appId,
    /** True when Alipay signed these notification fields (already form-decoded: not decoded again). */
    verifyNotification: (fields: Record<string, string>) => sdk.checkNotifySignV2(fields),
    queryTrade,
  };
}

export type AlipayProvider = ReturnType<typeof createAlipayProvider>;

/**
 * out_trade_no from our idempotency key: the same key always names the same trade (precreate again
 * returns it), and it fits Alipay's 64 characters of letters, digits and _.
 */
export function outTradeNoFor(idempotencyKey: string): string {
  return `pi_${digest(idempotencyKey, 40)}`;
}

/** Our refund key as out_request_no when it fits Alipay's rules, else a digest of it (same key, same request). */
export function outRequestNoFor(idempotencyKey: string): string {
  return /^[A-Za-z0-9_:.-]{1,64}$/.test(idempotencyKey) ? idempotencyKey : `rf_${digest(idempotencyKey, 40)}`;
}

function digest(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}
