import request from 'supertest';
import { createAuditService } from '../../modules/audit';
import { API_KEYS } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type RunningWorker, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';

/** Every state change by a person or a partner system is an audit row; audit rows can never change. */
let env: TestEnv;
let worker: RunningWorker;
let api: TestApi;
const shop = storefront(() => api);

beforeAll(async () => {
  env = await createTestEnv();
  worker = await env.startWorker();
  api = await startTestApi(env);
  await addSku(env.pool, 'sku_audit', 2_000, 10);
  await addMember(env.pool, 'mem_audit');
});
afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await env?.close();
});

test('ship, its repeat, a refused other shipment and delivery are audited with actor, request id, run and before/after', async () => {
  const placed = await shop.placeOrder('mem_audit', { lines: [{ skuId: 'sku_audit', quantity: 1 }] });
  expect(placed.status).toBe(201);
  const orderId = placed.body.orderId as string;
  await shop.pay(placed.body.payment.intentId);
  await shop.waitForStatus('mem_audit', orderId, 'PAID');

  const ship = (trackingNumber = 'SF42') =>
    request(api.url).post(`/warehouse/orders/${orderId}/ship`).set('X-API-Key', API_KEYS.warehouse).set('X-Request-Id', 'req-ship-1').send({ carrier: 'SF', trackingNumber });
  expect((await ship()).status).toBe(200);
  // The same shipment again (a retry) answers as the first did; another tracking number is refused.
  expect((await ship()).status).toBe(200);
  expect((await ship('SF43')).status).toBe(409);
  await shop.deliver(orderId);

  const rows = await createAuditService({ pool: env.pool }).list({ targetType: 'order', targetId: orderId });
  expect(rows.map((row) => [row.action, row.outcome, row.actorRole, row.actor, row.before])).toEqual([
    ['order.ship', 'ACCEPTED', 'warehouse', 'wh_test', { status: 'PAID' }],
    ['order.ship', 'ACCEPTED', 'warehouse', 'wh_test', { status: 'SHIPPED' }],
    ['order.ship', 'REFUSED', 'warehouse', 'wh_test', { status: 'SHIPPED' }],
    ['order.delivered', 'ACCEPTED', 'carrier', 'carrier_test', { status: 'SHIPPED' }],
  ]);
  const [shipped] = rows;
  expect(shipped).toMatchObject({
    requestId: 'req-ship-1',
    workflowId: `order-${orderId}`,
    before: { status: 'PAID' },
    after: { status: 'SHIPPED' },
    details: { carrier: 'SF', trackingNumber: 'SF42' },
  });
  const { runId } = await env.temporal.workflow.getHandle(`order-${orderId}`).describe();
  expect(shipped.runId).toBe(runId);
});

test('an admin creating a campaign is audited', async () => {
  const now = Date.now();
  const definition = {
    id: 'camp_audit',
    kind: 'FLASH_SALE',
    name: 'Audited sale',
    skuId: 'sku_audit',
    flashPriceFen: 1_000,
    stockCap: 2,
    perUserLimit: 1,
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
  };
  const created = await request(api.url).post('/admin/campaigns').set('X-API-Key', API_KEYS.admin).send(definition);
  expect(created.status).toBe(201);
  const opened = await request(api.url).post('/flash-sales/camp_audit/open').set('X-API-Key', API_KEYS.admin);
  expect(opened.status).toBe(200);
  const audit = createAuditService({ pool: env.pool });
  expect(await audit.list({ targetType: 'campaign', targetId: 'camp_audit' })).toEqual([
    expect.objectContaining({ action: 'campaign.create', actor: 'ops_test', actorRole: 'admin', outcome: 'ACCEPTED' }),
  ]);
  expect(await audit.list({ targetType: 'flash_sale', targetId: 'camp_audit' })).toEqual([
    expect.objectContaining({ action: 'flash-sale.open', actor: 'ops_test', after: expect.objectContaining({ cap: 2 }) }),
  ]);
});

test('audit rows and refund decisions are append-only: UPDATE, DELETE and TRUNCATE are refused by a trigger', async () => {
  await createAuditService({ pool: env.pool }).record({ actor: 'ops_x', actorRole: 'admin', action: 'test.append', targetType: 'test', targetId: 't1' });
  await env.pool.query(
    `INSERT INTO after_sales.decisions (request_id, order_id, decision, decided_by, channel, approved_fen, decided_at, workflow_id, run_id)
     VALUES ('rq_trigger', 'ord_trigger', 'APPROVED', 'agent_x', 'api', 100, now(), 'refund-rq_trigger', 'run-1')`,
  );
  for (const statement of [
    `UPDATE audit.events SET actor = 'someone_else' WHERE target_id = 't1'`,
    `DELETE FROM audit.events WHERE target_id = 't1'`,
    'TRUNCATE audit.events',
    `UPDATE after_sales.decisions SET approved_fen = 99999 WHERE request_id = 'rq_trigger'`,
    `DELETE FROM after_sales.decisions WHERE request_id = 'rq_trigger'`,
    'TRUNCATE after_sales.decisions',
  ]) {
    await expect(env.pool.query(statement)).rejects.toThrow(/append-only/);
  }
  expect((await env.pool.query(`SELECT actor FROM audit.events WHERE target_id = 't1'`)).rows).toEqual([{ actor: 'ops_x' }]);
  expect((await env.pool.query(`SELECT approved_fen FROM after_sales.decisions WHERE request_id = 'rq_trigger'`)).rows).toEqual([{ approved_fen: '100' }]);
});
