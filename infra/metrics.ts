import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The engine's own Prometheus metrics (prom-client). One registry per process: the API serves it at
 * /metrics, a worker at its health port's /metrics (the SDK's own metrics are on the worker's
 * WORKER_METRICS_PORT). Counters count what this process saw; Prometheus sums the processes.
 *
 * Workflow code is deterministic and counts nothing itself: what a workflow decides is counted by the
 * API that receives it (placed, rejected, admitted, refused, signature failures) or by the activity
 * that carries it out (refunds, compensations, payments recorded), see workers/activity-metrics.ts.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'order_engine_' });

export type OrderType = 'standard' | 'presale' | 'group_buy' | 'flash_sale';

export const ordersPlaced = new Counter({
  name: 'order_engine_orders_placed_total',
  help: 'Orders accepted by the API (new orders only, not idempotent replays), by order type',
  labelNames: ['type'] as const,
  registers: [registry],
});

export const ordersRejected = new Counter({
  name: 'order_engine_orders_rejected_total',
  help: 'Orders refused for a business reason (409/422: out of stock, coupon, window, limit...), by order type and problem type',
  labelNames: ['type', 'reason'] as const,
  registers: [registry],
});

export const flashSaleAdmissions = new Counter({
  name: 'order_engine_flash_sale_admissions_total',
  help: 'Flash-sale attempts admitted (a unit and the buyer limit taken)',
  registers: [registry],
});

export const flashSaleRefusals = new Counter({
  name: 'order_engine_flash_sale_refusals_total',
  help: 'Flash-sale attempts refused (sold out, limit reached, not open...), by reason',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const payments = new Counter({
  name: 'order_engine_payments_total',
  help: 'Payments by outcome: succeeded (recorded on an order), failed (provider said declined), late (reached a finished order and was refunded)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const refunds = new Counter({
  name: 'order_engine_refunds_total',
  help: 'Refunds paid back through the provider, by kind (cancellation, deposit, after_sales, late_payment, other)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const refundedFen = new Counter({
  name: 'order_engine_refunded_fen_total',
  help: 'Money refunded through the provider, in fen, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const compensations = new Counter({
  name: 'order_engine_compensations_total',
  help: 'Compensating steps (release stock, unlock coupon, refund...) that completed, by step',
  labelNames: ['step'] as const,
  registers: [registry],
});

export const compensationFailures = new Counter({
  name: 'order_engine_compensation_failures_total',
  help: 'Failed attempts of compensating steps (each is retried until it succeeds), by step',
  labelNames: ['step'] as const,
  registers: [registry],
});

export const webhookSignatureFailures = new Counter({
  name: 'order_engine_webhook_signature_failures_total',
  help: "Payment provider callbacks refused for a missing, wrong or stale signature, by route",
  labelNames: ['route'] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: 'order_engine_http_request_duration_seconds',
  help: 'HTTP request latency by method, route pattern and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export interface ScrapedValue {
  labels: Record<string, string>;
  value: number;
}

const scrapeReaders = new Map<string, () => Promise<ScrapedValue | undefined>>();

/**
 * A gauge computed when Prometheus scrapes (a count query, the last report). A failing or empty probe
 * leaves the series out rather than reporting a made-up value; that needs a label, because prom-client
 * always reports 0 for a gauge without labels. Registering the same name again (another app in the same
 * process, as tests do) replaces its reader.
 */
export function scrapedGauge(name: string, help: string, labelNames: [string, ...string[]], read: () => Promise<ScrapedValue | undefined>): void {
  const known = scrapeReaders.has(name);
  scrapeReaders.set(name, read);
  if (known) return;
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      const scraped = await scrapeReaders.get(name)!().catch(() => undefined);
      if (scraped) this.set(scraped.labels, scraped.value);
    },
  });
}
