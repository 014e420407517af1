import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure } from '@temporalio/common';

/**
 * A refusal of a message (update validator) or of a step: non-retryable and typed. The API maps it to
 * 409 (state, window) or 422 (amounts, lines) by its type.
 */
export function refuse(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** A policy's answer: allowed, or refused with a type and a reason the caller can show. */
export type Decision = { allowed: true } | { allowed: false; code: string; reason: string };

export const ALLOWED: Decision = { allowed: true };
export function denied(code: string, reason: string): Decision {
  return { allowed: false, code, reason };
}

/** Throws the refusal of a denied decision (in update validators). */
export function enforce(decision: Decision): void {
  if (!decision.allowed) refuse(decision.code, decision.reason);
}

/** The application failure behind an activity or child failure, when there is one. */
export function applicationCause(error: unknown): ApplicationFailure | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth += 1) {
    if (current instanceof ApplicationFailure) return current;
    if (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) current = current.cause;
    else return undefined;
  }
  return undefined;
}

/**
 * A business "no" from a module or a provider (non-retryable application failure), as opposed to
 * an outage that Temporal retries. Only these end a step without effect or need a person.
 */
export function isBusinessRefusal(error: unknown): boolean {
  return applicationCause(error)?.nonRetryable === true;
}

export function refusalCode(error: unknown, fallback = 'STEP_REFUSED'): string {
  return applicationCause(error)?.type ?? fallback;
}

export function refusalMessage(error: unknown): string {
  const cause = applicationCause(error) ?? (error as Error);
  return cause?.message ?? String(error);
}
