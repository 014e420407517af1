import path from 'node:path';
import { loadDotEnv } from './config';
import { startTracing } from './tracing';

/**
 * First import of every entry point (api/main.ts, workers/main.ts, scripts/start.ts): starts tracing
 * before express, http and pg are loaded, so their instrumentation takes. Off unless
 * OTEL_EXPORTER_OTLP_ENDPOINT is set. The service name says which process a span came from.
 */
loadDotEnv();
const entry = path.basename(path.dirname(require.main?.filename ?? ''));
const defaultName = entry === 'api' ? 'order-engine-api' : entry === 'workers' ? 'order-engine-worker' : 'order-engine';
startTracing({ serviceName: process.env.OTEL_SERVICE_NAME || defaultName, otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined });
