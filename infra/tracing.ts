import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/**
 * OpenTelemetry traces: HTTP (in and out), express routes and PostgreSQL queries are instrumented;
 * the Temporal interceptors (infra/temporal-tracing.ts) carry the context from the API's client call
 * through the workflow to its activities, so POST /orders, the workflow, its activities and their SQL
 * form one trace. Off unless an exporter is given: OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT in
 * production, an in-memory exporter in tests.
 *
 * Versions: the OTel SDK is the 1.x line that @temporalio/interceptors-opentelemetry 1.24 is built on
 * (its workflow span sink hands 1.x-shaped spans to our span processor). The express instrumentation
 * is the first release that patches express 5 (0.52); it creates spans through the global API and
 * finds the HTTP span's route slot by the same context key, so it works with the 1.x SDK.
 *
 * Instrumentation patches modules as they are loaded, so an entry point starts tracing before it
 * imports express or pg (infra/tracing-preload.ts is its first import).
 */
export interface Tracing {
  resource: Resource;
  /** Also receives the workflow spans, which the worker exports on the workflow's behalf. */
  spanProcessor: SpanProcessor;
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** The process's tracing, or undefined when it is off. */
export function activeTracing(): Tracing | undefined {
  return active;
}

export interface TracingOptions {
  serviceName: string;
  /** Base URL of an OTLP/HTTP collector (`/v1/traces` is appended). */
  otlpEndpoint?: string;
  /** Spans go here instead, synchronously (tests). */
  exporter?: SpanExporter;
}

export function startTracing(options: TracingOptions): Tracing | undefined {
  if (active) return active;
  if (!options.exporter && !options.otlpEndpoint) return undefined;
  const resource = new Resource({ 'service.name': options.serviceName, 'service.namespace': 'order-engine' });
  const spanProcessor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.otlpEndpoint!.replace(/\/$/, '')}/v1/traces` }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Probes and scrapes are not worth a trace each.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /^\/(healthz|readyz|metrics)\b/.test(req.url ?? '') }),
      new ExpressInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  active = {
    resource,
    spanProcessor,
    async shutdown() {
      unregister();
      await provider.shutdown();
      active = undefined;
    },
  };
  return active;
}
