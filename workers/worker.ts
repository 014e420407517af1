import { NativeConnection, Worker, type State, type WorkerOptions } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import type { Pool } from 'pg';
import { createActivities } from '../activities';
import { tracingWorkerOptions } from '../infra/temporal-tracing';
import type { EventConsumer } from '../modules/events/types';
import type { SubscriberNetworkPolicy } from '../modules/events/subscriber-network';
import type { PaymentProvider } from '../modules/finance';
import type { AuthSettings } from '../infra/tokens';
import { activityMetricsInterceptor } from './activity-metrics';
import { faultInjectionFromEnv } from './interceptors/fault-injection';
import { setWorkflowStackTraces } from './workflow-stack-traces';
import { ACTIVITY_GROUPS, moduleTaskQueue, type ActivityGroup } from '../workflows/shared/task-queues';

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
  /** Where webhook subscribers may be (eventDeliveryFromConfig); undefined: anywhere. */
  subscriberNetwork?: SubscriberNetworkPolicy;
  /** Extra options (e.g. shutdownGraceTime) for tests and tuning. */
  overrides?: Partial<WorkerOptions>;
  /**
   * Which task queues this process serves: `all` (default: the orders queue's workflows and activities
   * and every module queue, one process for everything), `orders` (workflows and the activities left on
   * the orders queue), or one module's queue (workflows/shared/task-queues.ts).
   */
  role?: WorkerRole;
  /**
   * The SDK's workflow stack traces (the stack-trace query): on unless told (the SDK's default); the
   * engine's processes follow WORKFLOW_STACK_TRACES (off by default: see workflow-stack-traces.ts).
   * One setting per process: the last worker created decides for the threads started after it.
   */
  workflowStackTraces?: boolean;
}

export type WorkerRole = 'all' | 'orders' | ActivityGroup;
export const WORKER_ROLES: readonly WorkerRole[] = ['all', 'orders', ...ACTIVITY_GROUPS];

/** The Temporal workers of one process (one per task queue it serves), run and stopped together. */
export interface EngineWorker {
  readonly workers: readonly Worker[];
  /** The task queues polled. */
  readonly taskQueues: readonly string[];
  run(): Promise<void>;
  /** Starts a graceful shutdown of every worker still running. */
  shutdown(): void;
  /** RUNNING while all run; otherwise the first other state (what a health check reports). */
  getState(): State;
}

/**
 * The engine's workers of one process: the order workflows on the orders task queue (TASK_QUEUE) and
 * the activities on it and on the module queues, as its role says. Every piece is stateless apart
 * from PostgreSQL and Temporal, so any number of these can run on any number of machines.
 */
export async function createEngineWorker(options: EngineWorkerOptions): Promise<EngineWorker> {
  // Chaos runs only (CHAOS_FAULT_RATE; refused under NODE_ENV=production): see bench/chaos.
  const faults = faultInjectionFromEnv();
  const role = options.role ?? 'all';
  // Every process registers every activity: a queue decides where work runs, not what can run.
  const activities = createActivities({ pool: options.pool, payments: options.payments, auth: options.auth, eventConsumers: options.eventConsumers, subscriberNetwork: options.subscriberNetwork });
  const common: WorkerOptions = {
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    dataConverter: { payloadCodecs: options.payloadCodecs ?? [] },
    // On shutdown, activities in flight get this long to finish before they are cancelled (and retried elsewhere).
    shutdownGraceTime: '10s',
    ...withFaults(engineWorkerObservability(), faults),
    ...options.overrides,
  };
  const workers: Worker[] = [];
  if (options.workflowStackTraces !== undefined) setWorkflowStackTraces(options.workflowStackTraces);
  if (role === 'all' || role === 'orders') {
    workers.push(await Worker.create({ ...common, ...(options.workflowSource ?? { workflowsPath: WORKFLOWS_PATH }), ...options.overrides }));
  }
  for (const group of ACTIVITY_GROUPS.filter((g) => role === 'all' || role === g)) {
    workers.push(await Worker.create(activityOnly({ ...common, taskQueue: moduleTaskQueue(options.taskQueue, group) })));
  }
  return runTogether(workers);
}

/** A module queue's worker: the same options without workflows (a prebuilt bundle or a path in the overrides). */
export function activityOnly(options: WorkerOptions): WorkerOptions {
  const { workflowBundle: _bundle, workflowsPath: _path, ...rest } = options;
  return rest;
}

/** Workers run together: one failing stops the others, and run() ends with its error once all stopped. */
export function runTogether(workers: Worker[]): EngineWorker {
  const shutdown = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  return {
    workers,
    taskQueues: workers.map((worker) => worker.options.taskQueue),
    async run() {
      const results = await Promise.allSettled(workers.map((worker) => worker.run().catch((error) => {
        shutdown();
        throw error;
      })));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown,
    getState() {
      return workers.map((worker) => worker.getState()).find((state) => state !== 'RUNNING') ?? 'RUNNING';
    },
  };
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
