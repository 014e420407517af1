import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { rootLogger, type Logger } from './logger';
import { temporalLogger } from './temporal-logger';
import { tracingClientInterceptors } from './temporal-tracing';

/** How to reach Temporal: the dev server, a self-hosted cluster, or Temporal Cloud (API key + TLS). */
export interface TemporalTarget {
  address: string;
  namespace: string;
  apiKey?: string;
  tls?: boolean;
  /** Payload codecs of clients (infra/payload-codec.ts); the worker takes the same in its options. */
  payloadCodecs?: PayloadCodec[];
}

function connectionOptions(target: TemporalTarget) {
  return {
    address: target.address,
    // Temporal Cloud API keys require TLS; a plain dev server must not get it.
    tls: target.tls || Boolean(target.apiKey) ? {} : undefined,
    apiKey: target.apiKey,
  };
}

export async function connectClient(target: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(target));
  return new Client({
    connection,
    namespace: target.namespace,
    dataConverter: { payloadCodecs: target.payloadCodecs ?? [] },
    interceptors: tracingClientInterceptors(),
  });
}

let runtimeInstalled = false;

export interface WorkerRuntimeOptions {
  logger?: Logger;
  /** host:port of the SDK's Prometheus endpoint (`/metrics`); unset: no SDK metrics. */
  metricsBindAddress?: string;
}

/**
 * Installs the worker SDK's runtime once per process, before any worker connection (the first call
 * wins): its logs (workflow `log`, activity `log`, the SDK's own lines) go to pino with their
 * workflow/activity context. Core's native warnings stay on stderr: forwarding them (`logging.forward`)
 * held every TS-side line back in 1.24 (seen in test/observability/worker-process.test.ts). Its
 * metrics, when asked for, are served for Prometheus with `_total` counters and `_seconds` durations. No signal handlers of its own: each entry point decides how it
 * shuts down (drain the worker, then close connections and servers).
 */
export function installWorkerRuntime(options: WorkerRuntimeOptions = {}): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const logger = (options.logger ?? rootLogger()).child({ component: 'temporal' });
  try {
    Runtime.install({
      logger: temporalLogger(logger),
      shutdownSignals: [],
      telemetryOptions: {
        ...(options.metricsBindAddress
          ? {
              metrics: {
                prometheus: { bindAddress: options.metricsBindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
              },
            }
          : {}),
      },
    });
  } catch (error) {
    // The runtime is per process and may already exist (e.g. an earlier test file in the same jest
    // worker); anything else (the metrics port taken) is worth a line.
    if (!/already been instantiated|already installed/i.test((error as Error).message)) logger.warn({ err: error }, 'Temporal runtime not installed as configured');
  }
}

export function connectWorkerConnection(target: TemporalTarget, runtime?: WorkerRuntimeOptions): Promise<NativeConnection> {
  installWorkerRuntime(runtime);
  return NativeConnection.connect(connectionOptions(target));
}
