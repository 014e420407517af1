import { ApplicationFailure } from '@temporalio/common';
import { ZodError } from 'zod';
import { DomainError } from '../modules/shared/errors';

/**
 * Wraps a module call for an activity: a DomainError (a business "no") becomes a non-retryable
 * ApplicationFailure with the error code as its type, so the workflow can branch on it, and so does
 * invalid input (INVALID_INPUT); any other error propagates and Temporal retries it (the operation is
 * idempotent).
 */
export async function asActivity<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DomainError) {
      throw ApplicationFailure.create({ message: error.message, type: error.code, nonRetryable: true, details: [error.details] });
    }
    // Bad input is a caller's bug: retrying the same input can never succeed.
    if (error instanceof ZodError) {
      throw ApplicationFailure.create({
        message: `invalid activity input: ${error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`).join('; ')}`,
        type: 'INVALID_INPUT',
        nonRetryable: true,
      });
    }
    throw error;
  }
}
