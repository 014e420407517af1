import { readFileSync } from 'node:fs';

/**
 * The SDK's workflow stack traces (the `__stack_trace` query behind the Temporal UI's "Stack Trace"
 * tab) come from a V8 promise hook that builds a source-mapped stack for every promise a workflow
 * creates: a third of a workflow thread's CPU in an order's life (BENCHMARKS.md, "Session 8"). Our
 * patch of @temporalio/worker (patches/, applied by `npm install`/`npm ci`) leaves the hook out when
 * TEMPORAL_WORKFLOW_STACK_TRACES=off. The variable is read when a worker's workflow thread starts, so
 * it is set here, before the workers are created, and holds for the whole process.
 */
export const STACK_TRACES_VARIABLE = 'TEMPORAL_WORKFLOW_STACK_TRACES';

export function setWorkflowStackTraces(enabled: boolean): void {
  process.env[STACK_TRACES_VARIABLE] = enabled ? 'on' : 'off';
}

/** Whether the installed SDK carries the patch (without it, `off` costs nothing but saves nothing either). */
export function stackTracesPatchApplied(): boolean {
  try {
    return readFileSync(require.resolve('@temporalio/worker/lib/workflow/vm-shared.js'), 'utf8').includes(STACK_TRACES_VARIABLE);
  } catch {
    return false;
  }
}
