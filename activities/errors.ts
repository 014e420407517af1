import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../modules/shared/errors';

/**
 * Wraps a module call for an activity: a DomainError (a business "no") becomes a non-retryable
 * ApplicationFailure with the error code as its type, so the workflow can branch on it; any other
 * error propagates and Temporal retries it (the operation is idempotent).
 */
export async function asActivity<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DomainError) {
      throw ApplicationFailure.create({ message: error.message, type: error.code, nonRetryable: true, details: [error.details] });
    }
    throw error;
  }
}
