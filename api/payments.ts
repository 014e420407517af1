import type { Client } from '@temporalio/client';
import express, { Router, type Request } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import {
  checkoutOf,
  listRefusedNotifications,
  parseAlipayNotification,
  PAID_TRADE_STATES,
  reconciliationReports,
  recordRefusedNotification,
  SIGNATURE_HEADER,
  verifyWebhookSignature,
  WECHATPAY_PAID_STATES,
  type AlipayProvider,
  type WechatpayProvider,
} from '../modules/finance';
import { authenticate, principalOf, requireRole, type AuthSettings } from './auth';
import { idSchema } from './validation';
import { problemResponse, registry } from './openapi';
import { acceptProviderEvent } from './payment-gate';
import { notFound, ProblemError } from './problem';

/** Deliveries older than this are refused even with a valid signature (replay protection). */
const SIGNATURE_TOLERANCE_SECONDS = 300;

const WebhookEvent = registry.register(
  'PaymentWebhookEvent',
  z.object({
    id: z.string().min(1).max(200),
    type: z.string().min(1).max(100),
    created: z.number().int(),
    data: z
      .object({
        orderId: z.string().min(1),
        intentId: z.string().min(1),
        amountFen: z.number().int().nonnegative(),
        currency: z.string().default('CNY'),
        failureReason: z.string().optional(),
      })
      .passthrough(),
  }),
);

registry.registerPath({
  method: 'post',
  path: '/payments/webhook',
  summary: "The sandbox payment provider's callback (HMAC-signed); a replayed event has no second effect",
  request: {
    headers: z.object({ [SIGNATURE_HEADER]: z.string().describe('t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">') }),
    body: { content: { 'application/json': { schema: WebhookEvent } } },
  },
  responses: {
    200: {
      description: 'Handled, already handled, or refused by the payment gate (amount, currency or intent not ours: recorded for ops)',
      content: { 'application/json': { schema: z.object({ received: z.boolean(), duplicate: z.boolean(), refused: z.boolean().optional() }) } },
    },
    400: problemResponse('Not an event'),
    401: problemResponse('Missing or invalid signature'),
  },
});
registry.registerPath({
  method: 'post',
  path: '/payments/alipay/notify',
  summary: "Alipay's asynchronous notification (form fields, RSA2-signed by Alipay); answered `success` once persisted",
  responses: { 200: { description: '`success` (handled, duplicate, or refused and recorded)' }, 401: problemResponse('Bad signature'), 404: problemResponse('Alipay is not configured') },
});
registry.registerPath({
  method: 'post',
  path: '/payments/wechatpay/notify',
  summary: "WeChat Pay's notification (platform-signed, resource encrypted with AEAD_AES_256_GCM); 204 once persisted",
  responses: { 204: { description: 'Handled, duplicate, or refused and recorded' }, 401: problemResponse('Bad signature or undecryptable resource'), 404: problemResponse('WeChat Pay is not configured') },
});
registry.registerPath({
  method: 'get',
  path: '/admin/payments/refused-notifications',
  summary: 'Signed provider notifications the payment gate refused (amount, currency, order or app not matching our intent)',
  security: [{ apiKey: [] }, { bearerAuth: [] }],
  responses: { 200: { description: 'Newest first' }, 403: problemResponse('Not an admin') },
});
registry.registerPath({
  method: 'get',
  path: '/admin/reconciliation',
  summary: "Reconciliation reports of a day (provider records against the ledger, to the fen), newest first, with every difference",
  security: [{ apiKey: [] }, { bearerAuth: [] }],
  request: { query: z.object({ date: z.iso.date() }) },
  responses: { 200: { description: 'The reports of that day' }, 400: problemResponse('No valid date'), 403: problemResponse('Not an admin') },
});
registry.registerPath({
  method: 'get',
  path: '/payments/intents/{intentId}/checkout',
  summary: 'What the buyer needs to pay an intent at the provider (Alipay: the QR code)',
  security: [{ apiKey: [] }, { bearerAuth: [] }],
  responses: { 200: { description: 'The intent and its checkout' }, 404: problemResponse('No such intent for this buyer') },
});

export interface PaymentsDeps {
  pool: Pool;
  temporal: Client;
  webhookSecret: string;
  taskQueue: string;
  auth: AuthSettings;
  /** The sandbox provider's webhooks are received only when the sandbox is served (never in production). */
  sandboxWebhooks: boolean;
  /** Set when the engine takes payments with Alipay: its notifications are verified with it. */
  alipay?: AlipayProvider;
  /** Set when the engine takes payments with WeChat Pay. */
  wechatpay?: WechatpayProvider;
}

/** The raw request body, kept by express.json's `verify` hook: the signature covers exact bytes. */
export type RequestWithRawBody = Request & { rawBody?: Buffer };

const refusedQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });

export function paymentsRouter(deps: PaymentsDeps): Router {
  const router = Router();

  router.post('/payments/webhook', async (req: RequestWithRawBody, res, next) => {
    if (!deps.sandboxWebhooks) return next();
    const rawBody = req.rawBody ?? Buffer.alloc(0);
    if (!verifyWebhookSignature(deps.webhookSecret, req.get(SIGNATURE_HEADER), rawBody, SIGNATURE_TOLERANCE_SECONDS)) {
      throw new ProblemError(401, 'invalid-signature', 'Invalid signature', `missing, wrong or stale ${SIGNATURE_HEADER}`);
    }
    const event = WebhookEvent.parse(req.body);
    const type = event.type === 'payment.succeeded' || event.type === 'payment.failed' ? event.type : 'other';
    const outcome = await acceptProviderEvent(deps, {
      provider: 'sandbox',
      eventId: event.id,
      type,
      kind: event.type,
      intentId: event.data.intentId,
      orderId: event.data.orderId,
      amountFen: event.data.amountFen,
      currency: event.data.currency,
      paidAt: new Date(event.created * 1000).toISOString(),
      failureReason: event.data.failureReason,
      received: event,
    });
    res.json({ received: true, duplicate: outcome === 'duplicate', ...(outcome === 'refused' ? { refused: true } : {}) });
  });

  // Alipay posts form fields and retries until it reads `success`: answered only once persisted.
  router.post('/payments/alipay/notify', express.urlencoded({ extended: false, limit: '64kb' }), async (req, res) => {
    if (!deps.alipay) throw notFound('Alipay notifications (PAYMENT_PROVIDER is not alipay)');
    const fields = Object.fromEntries(Object.entries((req.body ?? {}) as Record<string, unknown>).filter(([, value]) => typeof value === 'string')) as Record<string, string>;
    if (!deps.alipay.verifyNotification(fields)) throw new ProblemError(401, 'invalid-signature', 'Invalid signature', 'not signed by Alipay');
    const notification = parseAlipayNotification(fields);
    if (!notification) throw new ProblemError(400, 'validation', 'Invalid request', 'not an Alipay trade notification');
    const paid = PAID_TRADE_STATES.includes(notification.tradeStatus) && !notification.refund;
    const notice = {
      provider: 'alipay' as const,
      // One payment is one event, whatever Alipay resends (TRADE_SUCCESS, later TRADE_FINISHED, retries).
      eventId: paid ? `alipay:${notification.tradeNo}:paid` : `alipay:${notification.notifyId}`,
      type: paid ? ('payment.succeeded' as const) : ('other' as const),
      kind: `alipay.${notification.tradeStatus}${notification.refund ? '.refund' : ''}`,
      intentId: notification.outTradeNo,
      amountFen: notification.totalAmountFen,
      currency: 'CNY',
      paidAt: notification.at,
      received: fields,
    };
    if (notification.appId !== deps.alipay.appId) {
      await recordRefusedNotification(deps.pool, notice, 'APP_MISMATCH');
    } else {
      await acceptProviderEvent(deps, notice);
    }
    res.type('text/plain').send('success');
  });

  // WeChat Pay retries until it gets 2xx; the signature covers the exact body bytes.
  router.post('/payments/wechatpay/notify', async (req: RequestWithRawBody, res) => {
    if (!deps.wechatpay) throw notFound('WeChat Pay notifications (PAYMENT_PROVIDER is not wechatpay)');
    const opened = deps.wechatpay.openNotification(
      { timestamp: req.get('Wechatpay-Timestamp'), nonce: req.get('Wechatpay-Nonce'), signature: req.get('Wechatpay-Signature'), serial: req.get('Wechatpay-Serial') },
      (req.rawBody ?? Buffer.alloc(0)).toString('utf8'),
    );
    if (!opened) throw new ProblemError(401, 'invalid-signature', 'Invalid signature', 'not signed by WeChat Pay, stale, or not decryptable');
    const { transaction } = opened;
    const paid = opened.eventType === 'TRANSACTION.SUCCESS' && WECHATPAY_PAID_STATES.includes(transaction.trade_state);
    const notice = {
      provider: 'wechatpay' as const,
      eventId: paid ? `wechatpay:${transaction.transaction_id}:paid` : `wechatpay:${opened.eventId}`,
      type: paid ? ('payment.succeeded' as const) : ('other' as const),
      kind: `wechatpay.${opened.eventType}`,
      intentId: String(transaction.out_trade_no ?? ''),
      amountFen: Number.isSafeInteger(transaction.amount?.total) ? transaction.amount.total : undefined,
      currency: transaction.amount?.currency ?? 'CNY',
      paidAt: transaction.success_time ? new Date(transaction.success_time).toISOString() : new Date().toISOString(),
      received: { id: opened.eventId, event_type: opened.eventType, resource: transaction },
    };
    if (transaction.mchid !== deps.wechatpay.mchid || transaction.appid !== deps.wechatpay.appid) {
      await recordRefusedNotification(deps.pool, notice, 'APP_MISMATCH');
    } else {
      await acceptProviderEvent(deps, notice);
    }
    res.status(204).end();
  });

  router.get('/admin/payments/refused-notifications', authenticate(deps.auth), requireRole('finance'), async (req, res) => {
    const { limit } = refusedQuery.parse(req.query);
    res.json({ refused: await listRefusedNotifications(deps.pool, limit) });
  });

  router.get('/admin/reconciliation', authenticate(deps.auth), requireRole('finance'), async (req, res) => {
    const { date } = z.object({ date: z.iso.date() }).parse(req.query);
    const reports = await reconciliationReports(deps.pool, date);
    res.json({ date, status: reports[0]?.status ?? null, reports });
  });

  router.get('/payments/intents/:intentId/checkout', authenticate(deps.auth), async (req, res) => {
    const intentId = idSchema.parse(req.params.intentId);
    const found = await checkoutOf(deps.pool, intentId);
    const principal = principalOf(res);
    const owner = found && (await deps.pool.query<{ customer_id: string }>('SELECT customer_id FROM orders.orders WHERE order_id = $1', [found.orderId])).rows[0];
    if (!found || (principal.role !== 'admin' && owner?.customer_id !== principal.subject)) throw notFound(`intent ${intentId}`);
    res.json({ intentId, ...found });
  });

  return router;
}
