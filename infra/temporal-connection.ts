import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';

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
  return new Client({ connection, namespace: target.namespace, dataConverter: { payloadCodecs: target.payloadCodecs ?? [] } });
}

let runtimeInstalled = false;

/**
 * Installs the worker SDK's runtime once per process, before any worker connection: its logger quieted
 * below warnings (the engine logs its own actions), and no signal handlers of its own, because each
 * entry point decides how it shuts down (drain the worker, then close connections and servers).
 */
export function installWorkerRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  } catch {
    // The runtime is per process and already exists (e.g. an earlier test file in the same jest worker).
  }
}

export function connectWorkerConnection(target: TemporalTarget): Promise<NativeConnection> {
  installWorkerRuntime();
  return NativeConnection.connect(connectionOptions(target));
}
