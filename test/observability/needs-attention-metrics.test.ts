import request from 'supertest';
import { eventually } from '../support/api-server';
import { useCase } from '../saga-cases/kit';
import { parseMetrics } from './support';

/**
 * What ops are paged for: a cancel refund the provider declines parks the order in NEEDS_ATTENTION
 * (the saga-cases kit injects the decline), which the gauge counts from visibility, and the failed
 * compensation attempts are counted by step.
 */
jest.setTimeout(90_000);
const kit = useCase();
afterEach(() => kit.clearBehaviours());

const scrape = async () => parseMetrics((await request(kit.api().url).get('/metrics')).text);

test('an order in NEEDS_ATTENTION shows in the gauge, a declined refund in the compensation failures', async () => {
  const before = await scrape();
  expect(before.get('order_engine_orders_needs_attention{phase="NEEDS_ATTENTION"}')).toBe(0);

  const { skuId, memberId } = await kit.shop();
  const order = await kit.placePaid(memberId, { lines: [{ skuId, quantity: 1 }] });
  await kit.addBehaviour({ action: 'decline', operation: 'refund', orderId: order.orderId });
  void kit.cancel(memberId, order.orderId).catch(() => undefined);
  await kit.waitForPhase(memberId, order.orderId, 'NEEDS_ATTENTION', 30_000);

  const after = await eventually(async () => {
    const metrics = await scrape();
    return metrics.get('order_engine_orders_needs_attention{phase="NEEDS_ATTENTION"}') === 1 ? metrics : undefined;
  }, 20_000, 'the NEEDS_ATTENTION gauge');
  const failures = (after.get('order_engine_compensation_failures_total{step="refundPayment"}') ?? 0) - (before.get('order_engine_compensation_failures_total{step="refundPayment"}') ?? 0);
  expect(failures).toBeGreaterThanOrEqual(1);
});
