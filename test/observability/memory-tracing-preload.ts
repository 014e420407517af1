import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { createLogger, setRootLogger } from '../../infra/logger';
import { startTracing } from '../../infra/tracing';

/** First import of traced-engine.ts: tracing to memory before http, express and pg load. Logs to stderr. */
setRootLogger(createLogger({ level: 'warn', format: 'json', destination: pino.destination(2) }));
export const exporter = new InMemorySpanExporter();
startTracing({ serviceName: 'order-engine-test', exporter });
