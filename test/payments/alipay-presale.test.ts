import request from 'supertest';
import { createFinanceService } from '../../modules/finance';
import type { OrderView } from '../../workflows/order/definitions';
import { startAlipayEngine, type AlipayTestEngine } from '../support/alipay-api';
import { API_KEYS, customerAuth } from '../support/api';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';

/** A presale (deposit, then final payment) paid with Alipay: two trades, each captured once, reconciled. */
let env: TestEnv;
let engine: AlipayTestEngine;
const shop = storefront(() => engine);
const PRESALE_PRICE = 10_000;
const DEPOSIT = 2_000;
const DEPOSIT_VALUE = 5_000;

beforeAll(async () => {
  env = await createTestEnv();
  engine = await startAlipayEngine(env);
});
afterAll(async () => {
  await engine?.close();
  await env.close();
});

test('presale with Alipay: the deposit and the final payment are two trades, each paid, captured and booked once; the day reconciles clean', async () => {
  await addSku(env.pool, 'sku_ali_presale', 12_000, 5);
  await addMember(env.pool, 'mem_ali_presale');
  const now = Date.now();
  const finalStart = new Date(now + 5_000);
  const campaign = {
    id: 'presale_ali',
    kind: 'PRESALE',
    name: 'Presale paid with Alipay',
    skuId: 'sku_ali_presale',
    presalePriceFen: PRESALE_PRICE,
    depositFen: DEPOSIT,
    depositValueFen: DEPOSIT_VALUE,
    depositStart: new Date(now - 60_000).toISOString(),
    depositEnd: new Date(finalStart.getTime() - 500).toISOString(),
    finalStart: finalStart.toISOString(),
    finalEnd: new Date(finalStart.getTime() + 20_000).toISOString(),
    depositRefundable: false,
  };
  expect((await request(engine.url).post('/admin/campaigns').set('X-API-Key', API_KEYS.admin).send(campaign)).status).toBe(201);
  const placed = await request(engine.url)
    .post(`/presales/${campaign.id}/orders`)
    .set('Authorization', customerAuth('mem_ali_presale'))
    .set('Idempotency-Key', 'ali-presale-1')
    .send({ quantity: 1 });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;
  const depositIntent = order.payment.intentId!;
  expect(engine.gateway.trades.get(depositIntent)).toMatchObject({ totalFen: DEPOSIT, status: 'WAIT_BUYER_PAY' });

  await engine.gateway.pay(depositIntent, { duplicates: 1 });
  await shop.waitForStatus('mem_ali_presale', order.orderId, 'DEPOSIT_PAID');
  await shop.waitForStatus('mem_ali_presale', order.orderId, 'FINAL_PAYMENT_DUE', 30_000);
  const opened = await request(engine.url).post(`/orders/${order.orderId}/final-payment`).set('Authorization', customerAuth('mem_ali_presale')).send({});
  expect(opened.status).toBe(200);
  const finalIntent = (opened.body as OrderView).presale!.finalPayment.intentId!;
  expect(engine.gateway.trades.get(finalIntent)).toMatchObject({ totalFen: PRESALE_PRICE - DEPOSIT_VALUE });

  await engine.gateway.pay(finalIntent);
  const paid = await shop.waitForStatus('mem_ali_presale', order.orderId, 'PAID');
  expect(paid.totals.paidFen).toBe(DEPOSIT + PRESALE_PRICE - DEPOSIT_VALUE);

  const finance = createFinanceService({ pool: env.pool, provider: engine.alipay });
  const payments = await finance.paymentsForOrder(order.orderId);
  expect(payments.map((payment) => [payment.intentId, payment.state, payment.capturedFen])).toEqual([
    [depositIntent, 'CAPTURED', DEPOSIT],
    [finalIntent, 'CAPTURED', PRESALE_PRICE - DEPOSIT_VALUE],
  ]);
  expect(payments.map((payment) => payment.captureId)).toEqual([engine.gateway.trades.get(depositIntent)!.tradeNo, engine.gateway.trades.get(finalIntent)!.tradeNo]);
  const report = await finance.reconcile({ date: new Date().toISOString().slice(0, 10) });
  expect(report).toMatchObject({ status: 'CLEAN', providerCount: 2, ledgerCount: 2, providerNetFen: 7_000, ledgerNetFen: 7_000 });
});
