import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import request from 'supertest';
import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { LiveFeed } from '../../api/dashboard/feed';
import { createReportsService } from '../../modules/reports';
import { liveSnapshot } from '../../modules/reports/live';
import type { OrderView } from '../../workflows/order/definitions';
import { customerAuth, staffAuth } from '../support/api';
import { startTestApi, type TestApi } from '../support/api-server';
import { launchChromium } from '../support/browser';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { storefront } from '../support/storefront';

/**
 * The wall screen in headless Chromium (test/support/browser.ts): it shows today's figures of orders
 * this test placed, and its GMV moves within 2 s of the buyer paying. A screenshot is kept for a person.
 */
let env: TestEnv;
let api: TestApi;
let browser: BrowserContext;
let profile: string;
const { placeOrder, pay } = storefront(() => api);
const merchantToken = staffAuth('merchant', 'screen_1').slice('Bearer '.length);

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  api = await startTestApi(env);
  await addSku(env.pool, 'sku_screen', 12_345, 50);
  await addMember(env.pool, 'mem_screen');
  profile = mkdtempSync(path.join(os.tmpdir(), 'dashboard-profile-'));
  browser = await launchChromium(profile);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  rmSync(profile, { recursive: true, force: true });
  await api.close();
  await env.close();
});

test('the dashboard shows the day live; GMV changes within 2 s of a payment; no PII on the screen', async () => {
  const placed = await placeOrder('mem_screen', { lines: [{ skuId: 'sku_screen', quantity: 2 }] });
  expect(placed.status).toBe(201);
  const order = placed.body as OrderView;

  const page = await browser.newPage();
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(`${api.url}/dashboard#token=${merchantToken}`);
  // Selectors, not evaluated predicates: the page's CSP (script-src 'self') forbids eval, as it should.
  await page.locator('#orders').filter({ hasText: /^1$/ }).waitFor({ timeout: 10_000 });
  expect(page.url()).toBe(`${api.url}/dashboard`); // the token left the address bar
  expect(await page.textContent('#placed')).toBe('246.90');
  expect(await page.getAttribute('#gmv', 'data-fen')).toBe('0');
  // The channel split the screen draws: the order came from the app (the default channel).
  const day = createReportsService({ pool: env.pool, timeZone: 'Asia/Shanghai' }).today();
  expect((await liveSnapshot(env.pool, day, 'Asia/Shanghai')).channels).toEqual([{ channel: 'app', orders: 1, placedFen: 24_690 }]);
  expect(await page.locator('#channels canvas').count()).toBe(1);

  const paidAt = Date.now();
  await pay(order.payment.intentId!);
  await page.waitForSelector('#gmv[data-fen="24690"]', { timeout: 2_000 });
  const tookMs = Date.now() - paidAt;
  console.log(`dashboard GMV changed ${tookMs} ms after the payment`);
  expect(await page.textContent('#gmv')).toBe('246.90');
  expect(await page.textContent('#status')).toBe('live');

  const text = await page.textContent('body');
  expect(text).not.toContain('mem_screen');
  await page.waitForTimeout(500); // let ECharts finish its animation for the picture
  const dir = path.resolve('test-results');
  mkdirSync(dir, { recursive: true });
  const screenshot = path.join(dir, `dashboard-${env.id}.png`);
  await page.screenshot({ path: screenshot });
  expect(statSync(screenshot).size).toBeGreaterThan(10_000);
  console.log(`dashboard screenshot: ${screenshot}`);
}, 60_000);

test('the stream needs a merchant; the page and ECharts are served from here', async () => {
  expect((await request(api.url).get('/dashboard/stream')).status).toBe(401);
  const customer = customerAuth('mem_screen');
  expect((await request(api.url).get('/dashboard/stream').set('Authorization', customer)).status).toBe(403);
  const html = await request(api.url).get('/dashboard');
  expect(html.status).toBe(200);
  expect(html.headers['content-security-policy']).toContain("script-src 'self'");
  expect((await request(api.url).get('/dashboard/assets/echarts.min.js')).status).toBe(200);
});

test('one shared read per beat serves every screen, and stops when the last one leaves', async () => {
  let reads = 0;
  const feed = new LiveFeed(async () => ({ beat: ++reads }), 100, () => undefined);
  const screens = Array.from({ length: 20 }, () => Object.assign(new EventEmitter(), { writeHead: jest.fn(), write: jest.fn() }));
  for (const screen of screens) feed.subscribe(screen as unknown as Response);
  await new Promise((resolve) => setTimeout(resolve, 550));
  expect(reads).toBeGreaterThanOrEqual(4);
  expect(reads).toBeLessThanOrEqual(7); // one read a beat, not one per screen
  for (const screen of screens) expect(screen.write).toHaveBeenCalledWith(expect.stringContaining(`"beat":${reads}`));
  for (const screen of screens) screen.emit('close');
  const after = reads;
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(reads).toBe(after);
  expect(feed.listeners).toBe(0);
});
