import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { API_KEYS } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { launchChromium } from '../support/browser';
import { createTestEnv, type TestEnv } from '../support/harness';
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
