import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import { tracingWorkerOptions } from '../infra/temporal-tracing';
import type { EventConsumer } from '../modules/events/types';
import type { PaymentProvider } from '../modules/finance';
import type { AuthSettings } from '../infra/tokens';
import { activityMetricsInterceptor } from './activity-metrics';
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
  /** Staff token verification for actors of ops signals (verifyActorToken). */
  auth?: AuthSettings;
  workflowSource?: WorkflowSource;
  /** Payload codecs (infra/payload-codec.ts): the same as the clients'. */
  payloadCodecs?: PayloadCodec[];
  /**
   * In-process consumers of the domain events (modules/events/README.md): delivered by their own
   * dispatcher workflows like webhooks. Pass the same list to every worker and to registerEventConsumers.
   */
  eventConsumers?: readonly EventConsumer[];
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
    activities: createActivities({ pool: options.pool, payments: options.payments, auth: options.auth, eventConsumers: options.eventConsumers }),
    dataConverter: { payloadCodecs: options.payloadCodecs ?? [] },
    // On shutdown, activities in flight get this long to finish before they are cancelled (and retried elsewhere).
    shutdownGraceTime: '10s',
    ...withFaults(engineWorkerObservability(), faults),
    ...options.overrides,
  });
}

/**
 * Business counters from activities (workers/activity-metrics.ts) and, when tracing is on, the
 * OpenTelemetry interceptors and the workflow span sink. A prebuilt workflow bundle must have been
 * built with the same workflow interceptor modules to trace workflows.
 */
export function engineWorkerObservability(): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const tracing = tracingWorkerOptions();
  return {
    interceptors: {
      workflowModules: tracing?.interceptors?.workflowModules ?? [],
      activity: [activityMetricsInterceptor, ...(tracing?.interceptors?.activity ?? [])],
    },
    sinks: tracing?.sinks,
  };
}

/** The chaos run's fault injector (only with CHAOS_FAULT_RATE) goes first, before metrics and tracing see the attempt. */
function withFaults(options: Pick<WorkerOptions, 'interceptors' | 'sinks'>, faults: ReturnType<typeof faultInjectionFromEnv>): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  if (!faults) return options;
  return { ...options, interceptors: { ...options.interceptors, activity: [faults, ...(options.interceptors?.activity ?? [])] } };
}
