import { BENCH_SKU, type DriveContext } from './drive';
import { percentile } from './stats';

/**
 * Reads of `GET /orders/{id}` as a storefront makes them, on orders still running (awaiting payment:
 * the reads a query would serve), C at a time for `seconds`.
 */
export async function measureReads(ctx: DriveContext, buyers: string[], concurrency: number, seconds: number) {
  const orders: { id: string; buyer: string }[] = [];
  for (const [i, buyer] of buyers.entries()) {
    const placed = await ctx.api.call('POST', '/orders', { customer: buyer }, { lines: [{ skuId: BENCH_SKU.id, quantity: 1 }] }, { 'Idempotency-Key': `bench-reads-${ctx.runId}-${i}` });
    if (placed.status !== 201) throw new Error(`reads: place HTTP ${placed.status}`);
    orders.push({ id: placed.body.orderId, buyer });
  }
  const latencies: number[] = [];
  let failures = 0;
  const until = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; Date.now() < until; i += concurrency) {
        const order = orders[i % orders.length];
        const t = Date.now();
        const answer = await ctx.api.call('GET', `/orders/${order.id}`, { customer: order.buyer });
        if (answer.status !== 200 || answer.body?.orderId !== order.id) failures += 1;
        latencies.push(Date.now() - t);
      }
    }),
  );
  if (failures > 0) throw new Error(`reads: ${failures} reads did not answer the order`);
  return { perSecond: latencies.length / ((Date.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}
