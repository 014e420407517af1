import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import type { PaymentProvider } from '../modules/finance';
import { faultInjectionFromEnv } from './interceptors/fault-injection';

/** Where the workflow code comes from: bundled on start from source, or a prebuilt bundle (tests, Docker). */
export type WorkflowSource = { workflowsPath: string } | { workflowBundle: { codePath: string } };

export const WORKFLOWS_PATH = require.resolve('../workflows');

export interface EngineWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: Pool;
  /** The configured payment provider (infra/payments.ts): never a silent default. */
  payments: PaymentProvider;
  workflowSource?: WorkflowSource;
  /** Payload codecs (infra/payload-codec.ts): the same as the clients'. */
  payloadCodecs?: PayloadCodec[];
  /** Extra options (e.g. shutdownGraceTime) for tests and tuning. */
  overrides?: Partial<WorkerOptions>;
}

/**
 * The engine's worker: all workflows and all activities on one task queue. Every piece is stateless
 * apart from PostgreSQL and Temporal, so any number of these can run on any number of machines.
 */
export async function createEngineWorker(options: EngineWorkerOptions): Promise<Worker> {
  // Chaos runs only (CHAOS_FAULT_RATE; refused under NODE_ENV=production): see bench/chaos.
  const faults = faultInjectionFromEnv();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowSource ?? { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ pool: options.pool, payments: options.payments }),
    dataConverter: { payloadCodecs: options.payloadCodecs ?? [] },
    ...(faults ? { interceptors: { activity: [faults] } } : {}),
    ...options.overrides,
  });
}
