import request from 'supertest';
import { createApp } from '../../api/app';
import { createSandboxProvider } from '../../modules/finance/sandbox';
import { createOrderProjection } from '../../modules/orders/projection';
import type { OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth, testApiSettings } from '../support/api';
import { addMember, addSku, services, TEST_ADDRESS } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

/**
 * Every route × every role → the status it gets. Ids name nothing, so a role that may use a route
 * gets past authorisation to 404 (or 400/422 for the body), and a role that may not gets 403;
 * without credentials 401. Warehouse scoping is checked below on an order with stock in one warehouse.
 */
const CALLERS = {
  customer: { Authorization: customerAuth('mem_matrix') },
  warehouse: { 'X-API-Key': API_KEYS.warehouse },
  eastWarehouse: { 'X-API-Key': API_KEYS.eastWarehouse },
  carrier: { 'X-API-Key': API_KEYS.carrier },
  support: { 'X-API-Key': API_KEYS.support },
  finance: { 'X-API-Key': API_KEYS.finance },
  admin: { 'X-API-Key': API_KEYS.admin },
  anonymous: {},
} satisfies Record<string, Record<string, string>>;
type Caller = keyof typeof CALLERS;
const ALL = Object.keys(CALLERS) as Caller[];

interface Route {
  route: string;
  body?: object;
  key?: boolean;
  /** Status for the callers allowed (by name), everyone else gets `others`. */
  allowed: Partial<Record<Caller, number>>;
  others?: number;
}

const ship = { carrier: 'SF', trackingNumber: 'SF1' };
const staffAndBuyers = (status: number) => ({ customer: status, support: status, finance: status, admin: status });
const ROUTES: Route[] = [
  { route: 'POST /orders', key: true, body: { lines: [{ skuId: 'sku_none', quantity: 1 }] }, allowed: { customer: 422, admin: 422 } },
  { route: 'GET /orders?customerId=mem_matrix', allowed: staffAndBuyers(200) },
  { route: 'GET /orders/ord_none', allowed: { ...staffAndBuyers(404), warehouse: 404, eastWarehouse: 404 } },
  { route: 'POST /orders/ord_none/cancel', body: {}, allowed: { customer: 404, support: 404, admin: 404 } },
  { route: 'POST /orders/ord_none/confirm-delivery', allowed: { customer: 404, admin: 404 } },
  { route: 'POST /orders/ord_none/final-payment', body: {}, allowed: { customer: 404, admin: 404 } },
  { route: 'POST /orders/ord_none/refunds', body: { kind: 'REFUND_ONLY', lines: [{ lineId: 'l1', quantity: 1 }], reason: 'broken' }, allowed: { customer: 404, admin: 404 } },
  { route: 'GET /refunds/rf_none', allowed: staffAndBuyers(404) },
  { route: 'POST /refunds/rf_none/return-shipment', body: ship, allowed: { customer: 404, admin: 404 } },
  { route: 'POST /warehouse/refunds/rf_none/received', allowed: { warehouse: 404, eastWarehouse: 404, admin: 404 } },
  { route: 'GET /support/refunds', allowed: { support: 200, admin: 200 } },
  { route: 'GET /support/refunds/rf_none', allowed: { support: 404, admin: 404 } },
  { route: 'POST /support/refunds/rf_none/approve', body: {}, allowed: { support: 404, admin: 404 } },
  { route: 'POST /support/refunds/rf_none/reject', body: { reason: 'no' }, allowed: { support: 404, admin: 404 } },
  { route: 'POST /warehouse/orders/ord_none/ship', body: ship, allowed: { warehouse: 404, eastWarehouse: 404, admin: 404 } },
  { route: 'POST /warehouse/orders/ord_none/shipment-failed', body: { reason: 'lost' }, allowed: { warehouse: 404, eastWarehouse: 404, admin: 404 } },
  { route: 'POST /carrier/orders/ord_none/delivered', allowed: { carrier: 404, admin: 404 } },
  { route: 'GET /warehouse/parcels?status=PENDING', allowed: { warehouse: 200, eastWarehouse: 200, admin: 200 } },
  { route: 'POST /warehouse/parcels/ord_none-p1/ship', body: ship, allowed: { warehouse: 404, eastWarehouse: 404, admin: 404 } },
  { route: 'POST /warehouse/parcels/ord_none-p1/shipment-failed', body: { reason: 'lost' }, allowed: { warehouse: 404, eastWarehouse: 404, admin: 404 } },
  {
    route: 'POST /carrier/parcels/ord_none-p1/events',
    body: { eventId: 'evt_1', code: 'IN_TRANSIT', occurredAt: '2026-12-01T10:00:00Z' },
    allowed: { carrier: 404, admin: 404 },
  },
  { route: 'GET /support/parcels?status=EXCEPTION', allowed: { support: 200, admin: 200 } },
  { route: 'POST /presales/camp_none/orders', key: true, body: {}, allowed: { customer: 404, admin: 404 } },
  { route: 'POST /group-buys/camp_none/orders', key: true, body: {}, allowed: { customer: 404, admin: 404 } },
  // The admin is no member: placement refuses it before looking at the campaign.
  { route: 'POST /flash-sales/camp_none/orders', body: {}, allowed: { customer: 404, admin: 422 } },
  { route: 'GET /flash-sales/camp_none', allowed: Object.fromEntries(ALL.filter((c) => c !== 'anonymous').map((c) => [c, 404])) },
  { route: 'POST /flash-sales/camp_none/open', allowed: { admin: 404 } },
  { route: 'POST /admin/campaigns', body: { id: 'camp_x' }, allowed: { admin: 400 } },
  { route: 'GET /admin/campaigns/camp_none', allowed: { admin: 404 } },
  { route: 'POST /admin/orders/ord_none/retry-compensation', body: { reason: 'fixed the provider' }, allowed: { admin: 404 } },
  { route: 'POST /admin/orders/ord_none/resolve', body: { reason: 'refunded by hand' }, allowed: { admin: 404 } },
  { route: 'GET /groups/grp_none', allowed: staffAndBuyers(404) },
  { route: 'GET /admin/payments/refused-notifications', allowed: { finance: 200, admin: 200 } },
  { route: 'GET /admin/reconciliation?date=2026-01-01', allowed: { finance: 200, admin: 200 } },
  { route: 'GET /payments/intents/pi_none/checkout', allowed: Object.fromEntries(ALL.filter((c) => c !== 'anonymous').map((c) => [c, 404])) },
  // Buyer-scoped: the token's member (mem_matrix); the admin is no member.
  { route: 'GET /members/me/notification-preferences', allowed: { customer: 200, admin: 404 } },
  { route: 'PUT /members/me/notification-preferences', body: { channels: { email: true } }, allowed: { customer: 200, admin: 404 } },
  { route: 'GET /members/me/contact', allowed: { customer: 200, admin: 404 } },
  { route: 'PUT /members/me/contact', body: {}, allowed: { customer: 200, admin: 404 } },
  { route: 'POST /admin/subscriptions', body: { url: 'ftp://nowhere' }, allowed: { admin: 400 } },
  { route: 'GET /admin/subscriptions', allowed: { admin: 200 } },
  { route: 'GET /admin/subscriptions/sub_none/dead-letters', allowed: { admin: 404 } },
  { route: 'POST /admin/subscriptions/sub_none/replay?from=1', allowed: { admin: 404 } },
  { route: 'GET /events/schema.json', allowed: {}, others: 200 },
  { route: 'POST /orders/ord_none/address', body: { address: TEST_ADDRESS }, allowed: { customer: 404, support: 404, admin: 404 } },
  { route: 'GET /members/me/addresses', allowed: { customer: 200, admin: 200 } },
  { route: 'POST /members/me/addresses', body: TEST_ADDRESS, allowed: { customer: 201, admin: 201 } },
  { route: 'GET /healthz', allowed: {}, others: 200 },
  { route: 'POST /payments/webhook', body: {}, allowed: {}, others: 401 },
];

let env: TestEnv;
let app: ReturnType<typeof createApp>;
let sandbox: ReturnType<typeof createSandboxProvider>;
beforeAll(async () => {
  env = await createTestEnv();
  await addMember(env.pool, 'mem_matrix');
  // With the sandbox provider, as in development: its webhook receiver is one of the routes.
  app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env), sandbox: (sandbox = createSandboxProvider({ pool: env.pool })) });
});
afterAll(async () => {
  await sandbox.close();
  await env.close();
});

function call(route: string, caller: Caller, body?: object, key?: boolean) {
  const [method, path] = route.split(' ');
  let pending = method === 'GET' ? request(app).get(path) : method === 'PUT' ? request(app).put(path) : request(app).post(path);
  for (const [name, value] of Object.entries(CALLERS[caller])) pending = pending.set(name, value);
  if (key) pending = pending.set('Idempotency-Key', `matrix-${caller}-${Math.random()}`);
  return method === 'GET' ? pending : pending.send(body ?? {});
}

test('the role matrix: every route × every role', async () => {
  const expected: string[] = [];
  const actual: string[] = [];
  for (const { route, body, key, allowed, others } of ROUTES) {
    for (const caller of ALL) {
      const status = allowed[caller] ?? others ?? (caller === 'anonymous' ? 401 : 403);
      expected.push(`${route} as ${caller} → ${status}`);
      actual.push(`${route} as ${caller} → ${(await call(route, caller, body, key)).status}`);
    }
  }
  expect(actual).toEqual(expected);
});

test('a warehouse sees and ships only orders with stock in its warehouses', async () => {
  await addSku(env.pool, 'sku_scoped', 1_000, 5); // stocked in wh_main only
  await services(env.pool).inventory.upsertWarehouse({ id: 'wh_east', name: 'East', priority: 2 });
  await services(env.pool).inventory.reserve({ idempotencyKey: 'ord_scoped:reserve-stock', orderId: 'ord_scoped', lines: [{ skuId: 'sku_scoped', quantity: 1 }] });
  const view = { orderId: 'ord_scoped', customerId: 'mem_matrix', type: 'STANDARD', status: 'PAID', currency: 'CNY', version: 1, totals: { payableFen: 1_000, refundedFen: 0 }, timeline: [] };
  await createOrderProjection({ pool: env.pool }).save(view as unknown as OrderView);

  const read = (caller: Caller) => call('GET /orders/ord_scoped', caller);
  expect((await read('warehouse')).status).toBe(200);
  expect((await read('eastWarehouse')).status).toBe(404);
  expect((await read('carrier')).status).toBe(403);
  // The workflow is gone, so a warehouse allowed to act meets the order's state (409), the other nothing (404).
  expect((await call('POST /warehouse/orders/ord_scoped/ship', 'warehouse', ship)).status).toBe(409);
  expect((await call('POST /warehouse/orders/ord_scoped/ship', 'eastWarehouse', ship)).status).toBe(404);
  expect((await call('POST /warehouse/orders/ord_scoped/shipment-failed', 'eastWarehouse', { reason: 'x' })).status).toBe(404);
  expect((await call('POST /carrier/orders/ord_scoped/delivered', 'warehouse')).status).toBe(403);
});
