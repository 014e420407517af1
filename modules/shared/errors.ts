/**
 * A business rule said no (out of stock, coupon not usable, refund above what was paid...). Retrying
 * will not help: activities turn it into a non-retryable ApplicationFailure whose `type` is `code`,
 * and the API turns it into a 409/422 problem. Anything else (a lost connection) is retried.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** The forward operation's key was already compensated: applying it now would resurrect undone work. */
export class AlreadyCompensatedError extends DomainError {
  constructor(key: string) {
    super('ALREADY_COMPENSATED', `operation ${key} was already compensated and cannot be applied`, { key });
  }
}

/** The same idempotency key was used for a different operation: a programming error, never retried. */
export class IdempotencyKeyReusedError extends DomainError {
  constructor(key: string, expected: string, actual: string) {
    super('IDEMPOTENCY_KEY_REUSED', `key ${key} belongs to ${actual}, not ${expected}`, { key, expected, actual });
  }
}
