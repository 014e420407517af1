/**
 * Retries a Temporal call that failed because the server was slow or not there yet (DEADLINE_EXCEEDED,
 * UNAVAILABLE): a dev server just started, or a cluster under load, answers a schedule's describe
 * late. Anything else (a refusal, a bad request) is thrown at once. For start-up steps, not for
 * calls a person waits on.
 */
export async function retryWhileTemporalIsSlow<T>(work: () => Promise<T>, attempts = 5, pauseMs = 2_000): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isSlowServer(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs * attempt));
    }
  }
}

function isSlowServer(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth += 1) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (code === 4 || code === 14) return true; // gRPC DEADLINE_EXCEEDED, UNAVAILABLE
    if (typeof message === 'string' && /DEADLINE_EXCEEDED|UNAVAILABLE/.test(message)) return true;
  }
  return false;
}

/**
 * The server refuses a new update while the workflow's task is being retried (its worker died or
 * timed out mid-task: FAILED_PRECONDITION "Workflow Task in failed state"). Nothing was admitted,
 * and it clears once a worker completes the task: the API asks again for a moment
 * (api/temporal.ts, retryTransientRefusals), then answers 503 with Retry-After (api/problem.ts), never 500.
 */
export function isWorkflowTaskRetrying(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth += 1) {
    const { message } = current as { message?: unknown };
    if (typeof message === 'string' && message.includes('Workflow Task in failed state')) return true;
  }
  return false;
}
