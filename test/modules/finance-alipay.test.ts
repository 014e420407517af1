import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import {
  createAlipayProvider,
  createFinanceService,
  fenToYuan,
  outRequestNoFor,
  parseAlipayNotification,
  ProviderUnavailableError,
  yuanToFen,
  type AlipayProvider,
  type FinanceService,
} from '../../modules/finance';
import { DomainError } from '../../modules/shared/errors';
import { startAlipayGateway, type AlipayGateway } from '../support/alipay-gateway';
import { createTestEnv, type TestEnv } from '../support/harness';

/** The Alipay adapter against the local gateway: signed requests, signed answers, notifications, bills. */
let env: TestEnv;
let gateway: AlipayGateway;
let alipay: AlipayProvider;
let finance: FinanceService;
let receiver: http.Server;
const received: Record<string, string>[] = [];

beforeAll(async () => {
  env = await createTestEnv();
  gateway = await startAlipayGateway({ retryDelayMs: 50, maxAttempts: 2 });
  const app = express().post('/notify', express.urlencoded({ extended: false }), (req, res) => {
    received.push(req.body);
    res.send(alipay.verifyNotification(req.body) ? 'success' : 'fail');
  });
  receiver = http.createServer(app);
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  alipay = createAlipayProvider({
    appId: gateway.appId,
    privateKey: gateway.appPrivateKey,
    alipayPublicKey: gateway.alipayPublicKey,
    gateway: gateway.gatewayUrl,
    notifyUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`,
  });
  finance = createFinanceService({ pool: env.pool, provider: alipay });
});
afterAll(async () => {
  await gateway.close();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await env.close();
});

test('amounts convert between fen and yuan strings exactly', () => {
  expect(fenToYuan(1)).toBe('0.01');
  expect(fenToYuan(12_300)).toBe('123.00');
  expect(yuanToFen('123.4')).toBe(12_340);
  expect(yuanToFen('0.07')).toBe(7);
  expect(yuanToFen('-10.00')).toBe(-1_000);
  for (const bad of ['1.234', '', 'abc', '1e3', '1.']) expect(yuanToFen(bad)).toBeUndefined();
  expect(outRequestNoFor('ord_1:refund-on-cancel:pi_1')).toBe('ord_1:refund-on-cancel:pi_1');
  expect(outRequestNoFor('x'.repeat(80))).toMatch(/^rf_[0-9a-f]{40}$/);
});

test('a payment: precreate gives a QR code, capture waits for the buyer, then confirms what was paid (idempotently)', async () => {
  const intent = await finance.createPaymentIntent({ idempotencyKey: 'ord_qr:intent', orderId: 'ord_qr', amountFen: 12_345 });
  const again = await alipay.createPaymentIntent({ idempotencyKey: 'ord_qr:intent', orderId: 'ord_qr', amountFen: 12_345, currency: 'CNY' });
  expect(again.intentId).toBe(intent.intentId);
  const row = await env.pool.query('SELECT checkout FROM finance.payments WHERE intent_id = $1', [intent.intentId]);
  expect(row.rows[0].checkout.qrCode).toMatch(/^https:\/\/qr\.alipay\.com\//);
  expect(gateway.trades.get(intent.intentId)).toMatchObject({ totalFen: 12_345, status: 'WAIT_BUYER_PAY' });

  await expect(finance.capturePayment({ idempotencyKey: 'ord_qr:capture', orderId: 'ord_qr', intentId: intent.intentId })).rejects.toMatchObject({
    code: 'PAYMENT_NOT_AUTHORIZED',
  });
  await gateway.pay(intent.intentId);
  const captured = await finance.capturePayment({ idempotencyKey: 'ord_qr:capture', orderId: 'ord_qr', intentId: intent.intentId });
  expect(captured).toMatchObject({ capturedFen: 12_345, captureId: gateway.trades.get(intent.intentId)!.tradeNo });
  expect(await finance.capturePayment({ idempotencyKey: 'ord_qr:capture', orderId: 'ord_qr', intentId: intent.intentId })).toEqual(captured);

  // The notification the buyer's payment caused was signed by the gateway and verifies.
  const fields = received.find((candidate) => candidate.out_trade_no === intent.intentId)!;
  expect(alipay.verifyNotification(fields)).toBe(true);
  expect(alipay.verifyNotification({ ...fields, total_amount: '0.01' })).toBe(false);
  expect(parseAlipayNotification(fields)).toMatchObject({ outTradeNo: intent.intentId, tradeStatus: 'TRADE_SUCCESS', totalAmountFen: 12_345, refund: false });
});

test('a refund whose answer is lost (HTTP 500 after the effect) is retried with the same out_request_no: one refund at Alipay', async () => {
  const intent = await finance.createPaymentIntent({ idempotencyKey: 'ord_rf:intent', orderId: 'ord_rf', amountFen: 5_000 });
  await gateway.pay(intent.intentId);
  await finance.capturePayment({ idempotencyKey: 'ord_rf:capture', orderId: 'ord_rf', intentId: intent.intentId });

  gateway.failNext({ method: 'alipay.trade.refund', phase: 'after' });
  await expect(finance.refundPayment({ idempotencyKey: 'ord_rf:refund-1', orderId: 'ord_rf', amountFen: 1_500, reason: 'partial' })).rejects.toBeInstanceOf(ProviderUnavailableError);
  const outcome = await finance.refundPayment({ idempotencyKey: 'ord_rf:refund-1', orderId: 'ord_rf', amountFen: 1_500, reason: 'partial' });
  expect(outcome.refunds).toEqual([expect.objectContaining({ state: 'SUCCEEDED', amountFen: 1_500 })]);
  const trade = gateway.trades.get(intent.intentId)!;
  expect([...trade.refunds.values()].map((refund) => refund.fen)).toEqual([1_500]);
  expect(gateway.calls.filter((call) => call.method === 'alipay.trade.fastpay.refund.query')).toHaveLength(1);

  // More than what is left is refused by Alipay: the reservation is released, nothing moves.
  await expect(finance.refundPayment({ idempotencyKey: 'ord_rf:refund-2', orderId: 'ord_rf', amountFen: 3_500, reason: 'rest' })).resolves.toMatchObject({ amountFen: 3_500 });
  trade.status = 'TRADE_SUCCESS';
  await expect(alipay.refund({ idempotencyKey: 'ord_rf:too-much', intentId: intent.intentId, amountFen: 1 })).resolves.toMatchObject({ status: 'failed', failureReason: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL' });
  const balances = await finance.accountBalances();
  expect(balances.find((balance) => balance.account === 'cash:provider')?.balanceFen).toBe(12_345);
});

test('cancel closes an unpaid trade; a paid one is refused as captured, and cancelPaymentIntent then refunds it in full', async () => {
  const unpaid = await finance.createPaymentIntent({ idempotencyKey: 'ord_close:intent', orderId: 'ord_close', amountFen: 800 });
  await finance.cancelPaymentIntent({ idempotencyKey: 'ord_close:intent' });
  expect(gateway.trades.get(unpaid.intentId)!.status).toBe('TRADE_CLOSED');
  await expect(gateway.pay(unpaid.intentId)).rejects.toThrow('cannot be paid');

  const paid = await finance.createPaymentIntent({ idempotencyKey: 'ord_paid:intent', orderId: 'ord_paid', amountFen: 900 });
  await gateway.pay(paid.intentId, { silent: true });
  await expect(alipay.cancelIntent({ idempotencyKey: 'x', intentId: paid.intentId })).rejects.toMatchObject({ code: 'PROVIDER_INTENT_ALREADY_CAPTURED' });
  await finance.cancelPaymentIntent({ idempotencyKey: 'ord_paid:intent' });
  await finance.cancelPaymentIntent({ idempotencyKey: 'ord_paid:intent' });
  const trade = gateway.trades.get(paid.intentId)!;
  expect(trade.status).toBe('TRADE_CLOSED');
  expect([...trade.refunds.values()].map((refund) => refund.fen)).toEqual([900]);
  const [payment] = await finance.paymentsForOrder('ord_paid');
  expect(payment).toMatchObject({ state: 'CAPTURED', capturedFen: 900, refundedFen: 900 });
  const entries = await finance.entriesForOrder('ord_paid');
  expect(entries.map((entry) => entry.kind)).toEqual(['PAYMENT_CAPTURED', 'REFUND']);
});

test('answers not signed by Alipay are refused (retryable), as are non-CNY intents', async () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const impostorTrust = createAlipayProvider({
    appId: gateway.appId,
    privateKey: gateway.appPrivateKey,
    alipayPublicKey: other.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    gateway: gateway.gatewayUrl,
    notifyUrl: 'http://127.0.0.1:9/notify',
  });
  await expect(impostorTrust.createPaymentIntent({ idempotencyKey: 'ord_sig:intent', orderId: 'ord_sig', amountFen: 100, currency: 'CNY' })).rejects.toBeInstanceOf(
    ProviderUnavailableError,
  );
  const wrongAppKey = createAlipayProvider({
    appId: gateway.appId,
    privateKey: other.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    alipayPublicKey: gateway.alipayPublicKey,
    gateway: gateway.gatewayUrl,
    notifyUrl: 'http://127.0.0.1:9/notify',
  });
  await expect(wrongAppKey.createPaymentIntent({ idempotencyKey: 'ord_sig2:intent', orderId: 'ord_sig2', amountFen: 100, currency: 'CNY' })).rejects.toThrow(
    'isv.invalid-signature',
  );
  await expect(alipay.createPaymentIntent({ idempotencyKey: 'ord_usd:intent', orderId: 'ord_usd', amountFen: 100, currency: 'USD' })).rejects.toBeInstanceOf(DomainError);
  gateway.failNext({ method: 'alipay.trade.query', count: 1 });
  await expect(alipay.queryTrade('pi_whatever')).rejects.toBeInstanceOf(ProviderUnavailableError);
});

test("listTransactions reads the day's trade bill (GBK CSV in a zip) to the fen", async () => {
  const now = new Date();
  const transactions = await alipay.listTransactions({ from: new Date(now.getTime() - 3_600_000), to: new Date(now.getTime() + 3_600_000) });
  const qr = gateway.trades.get([...gateway.trades.keys()][0])!;
  expect(transactions).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ kind: 'capture', transactionId: qr.tradeNo, orderId: 'ord_qr', amountFen: 12_345, currency: 'CNY' }),
      expect.objectContaining({ kind: 'refund', transactionId: expect.stringMatching(/:ord_rf:refund-1:/), orderId: 'ord_rf', amountFen: 1_500 }),
    ]),
  );
  const journal = await env.pool.query<{ external_ref: string }>("SELECT external_ref FROM finance.journal_entries WHERE kind IN ('PAYMENT_CAPTURED', 'REFUND')");
  expect(new Set(transactions.map((tx) => tx.transactionId))).toEqual(new Set(journal.rows.map((row) => row.external_ref)));
});
