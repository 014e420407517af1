import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import { activeTracing } from './tracing';

/**
 * The Temporal side of tracing (@temporalio/interceptors-opentelemetry): the client puts the current
 * span into the workflow's headers, the workflow interceptors continue it and pass it to each
 * activity, the activity interceptor opens the activity's span under it. Nothing when tracing is off.
 */
export function tracingClientInterceptors(): ClientInterceptors | undefined {
  return activeTracing() ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/** Worker options that trace workflows (bundled interceptor module + span sink) and activities. */
export function tracingWorkerOptions(): Pick<WorkerOptions, 'interceptors' | 'sinks'> | undefined {
  const tracing = activeTracing();
  if (!tracing) return undefined;
  return {
    interceptors: {
      workflowModules: [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')],
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
