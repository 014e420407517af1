import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { API_KEYS } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { launchChromium } from '../support/browser';
import { createTestEnv, type TestEnv } from '../support/harness';
import { createParcelService } from '../../modules/logistics';
import { afterSalesKit, afterSalesTimeouts } from './helpers';

/** The support console in headless Chromium (test/support/browser.ts), clicked as an agent would. */
let env: TestEnv;
let api: TestApi;
let kit: ReturnType<typeof afterSalesKit>;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  env = await createTestEnv();
  kit = afterSalesKit(env, () => api);
  await env.startWorker();
  api = await startTestApi(env, afterSalesTimeouts());
  profile = mkdtempSync(path.join(tmpdir(), 'console-chromium-'));
  // A fresh profile per run (the persistent context is how playwright takes a user-data-dir).
  browser = await launchChromium(profile);
});
afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
  await api.close();
  await env.close();
});

test('an agent opens the console, sees the pending request and approves it: the refund is paid', async () => {
  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] });
  const asked = await kit.askRefund(memberId, order.orderId, { kind: 'REFUND_ONLY', lines: [{ lineId: 'L1', quantity: 1 }], reason: 'ordered by mistake' });
  expect(asked.status).toBe(201);
  const requestId = asked.body.requestId as string;
  await kit.waitForRequest(requestId, 'PENDING'); // listed from PostgreSQL once projected

  const page = await browser.newPage();
  await page.goto(`${api.url}/support/console#key=${API_KEYS.support}`);
  const row = page.locator(`tr[data-request-id="${requestId}"]`);
  await row.waitFor({ timeout: 15_000 });
  await row.locator('button.approve').click();
  await page.locator('#decision', { hasText: `${requestId}: APPROVED` }).waitFor({ timeout: 30_000 });
  await page.close();

  const refunded = await kit.waitForStatus(memberId, order.orderId, 'REFUNDED');
  expect(refunded.totals.refundedFen).toBe(10_000);
  expect(await kit.stock(skuId)).toMatchObject({ onHand: 10, reserved: 0 });
  expect(await kit.afterSales().decisions({ requestId })).toEqual([expect.objectContaining({ decision: 'APPROVED', decidedBy: 'agent_test', channel: 'api' })]);
});

test('the console lists parcels in exception (issue 13) beside the refund requests', async () => {
  const parcels = createParcelService({ pool: env.pool });
  const inException = { parcelId: 'ord_console-p1', seq: 1, warehouseId: 'wh_main', items: [], payableFen: 100, freightFen: 0, tracking: [], carrier: 'SF', trackingNumber: 'SF77' };
  await parcels.recordParcels('ord_console', [{ ...inException, status: 'EXCEPTION', exception: { eventId: 'evt_x', at: '2026-12-01T10:00:00Z', description: 'address not found' } }], 1);
  await parcels.recordParcels('ord_console', [{ ...inException, parcelId: 'ord_console-p2', seq: 2, status: 'IN_TRANSIT' }], 1);

  const page = await browser.newPage();
  await page.goto(`${api.url}/support/console#key=${API_KEYS.support}`);
  const row = page.locator('tr[data-parcel-id="ord_console-p1"]');
  await row.waitFor({ timeout: 15_000 });
  expect(await row.textContent()).toContain('address not found');
  expect(await page.locator('tr[data-parcel-id="ord_console-p2"]').count()).toBe(0);
  await page.close();
});
