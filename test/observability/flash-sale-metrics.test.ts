import request from 'supertest';
import { addFlashCampaign, addMember, attempt, startFlashApi } from '../flash-sale/support';
import type { TestApi } from '../support/api-server';
import { createTestEnv, type TestEnv } from '../support/harness';
import { parseMetrics } from './support';

/** Flash-sale admissions and refusals are counted, the sold-out answers from memory included. */
let env: TestEnv;
let api: TestApi;
beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  api = await startFlashApi(env);
});
afterAll(async () => {
  await api.close();
  await env.close();
});

test('admissions, limit refusals and sold-out refusals move their counters', async () => {
  const { campaignId } = await addFlashCampaign(env, 'fs_metrics', { stockCap: 2, perUserLimit: 1 });
  for (const member of ['mem_fa', 'mem_fb', 'mem_fc', 'mem_fd']) await addMember(env.pool, member);
  const scrape = async () => parseMetrics((await request(api.url).get('/metrics')).text);
  const before = await scrape();

  expect([201, 202]).toContain((await attempt(api, campaignId, 'mem_fa')).status);
  const again = await attempt(api, campaignId, 'mem_fa');
  expect(again.status).toBe(409);
  expect(again.body.reason).toBe('LIMIT_REACHED');
  expect([201, 202]).toContain((await attempt(api, campaignId, 'mem_fb')).status);
  for (const member of ['mem_fc', 'mem_fd']) {
    const late = await attempt(api, campaignId, member);
    expect(late.status).toBe(409);
    expect(late.body.reason ?? 'SOLD_OUT').toBe('SOLD_OUT');
  }

  const after = await scrape();
  const delta = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);
  expect(delta('order_engine_flash_sale_admissions_total')).toBe(2);
  expect(delta('order_engine_orders_placed_total{type="flash_sale"}')).toBe(2);
  expect(delta('order_engine_flash_sale_refusals_total{reason="limit-reached"}')).toBe(1);
  expect(delta('order_engine_flash_sale_refusals_total{reason="sold-out"}')).toBe(2);
  expect(delta('order_engine_http_request_duration_seconds_count{method="POST",route="/flash-sales/:campaignId/orders",status_code="409"}')).toBe(3);
});
