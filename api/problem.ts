import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../infra/database';
import { isWorkflowTaskRetrying } from '../infra/temporal-retry';
import { rootLogger, type Logger } from '../infra/logger';
import { requestIdOf } from './request-observability';

/**
 * Errors as RFC 9457 problem details (`application/problem+json`). Handlers throw `ProblemError`
 * (or a ZodError for bad input); the error handler turns it into the body. A client's mistake is never a 500.
 */
export interface ProblemFieldError {
  /** JSON pointer-ish path of the offending field, e.g. `lines.0.quantity`. */
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: ProblemFieldError[];
  [extension: string]: unknown;
}

const TYPE_BASE = 'https://order-engine.dev/problems/';

export class ProblemError extends Error {
  /** Seconds a client should wait before asking again (sent as Retry-After), for a refusal that lasts a moment. */
  retryAfterS?: number;

  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'ProblemError';
  }
}

export const notFound = (what: string) => new ProblemError(404, 'not-found', 'Not found', `${what} does not exist`);
export const conflict = (detail: string, extensions?: Record<string, unknown>) =>
  new ProblemError(409, 'conflict', 'Not allowed in the current state', detail, extensions);
/** The engine is catching up (a recovered workflow task replaying): 503 with Retry-After; asked again, it may be taken. */
export function notNowRetryShortly(detail: string, retryAfterS: number, extensions?: Record<string, unknown>): ProblemError {
  const problem = new ProblemError(503, 'service-unavailable', 'Service unavailable', detail, extensions);
  problem.retryAfterS = retryAfterS;
  return problem;
}
export const unprocessable = (slug: string, detail: string, extensions?: Record<string, unknown>) =>
  new ProblemError(422, slug, 'Request cannot be processed', detail, extensions);

/**
 * Sends a problem; the request's id (X-Request-Id) is added as `requestId`, so a client quoting it
 * leads ops to the request's log lines.
 */
export function sendProblem(res: Response, problem: Problem): void {
  const requestId = requestIdOf(res.req);
  if (problem.type.startsWith(TYPE_BASE)) res.locals.problemSlug = problem.type.slice(TYPE_BASE.length);
  res.status(problem.status).type('application/problem+json').json(requestId ? { ...problem, requestId } : problem);
}

export function validationProblem(error: z.ZodError, instance?: string): Problem {
  return {
    type: TYPE_BASE + 'validation',
    title: 'Invalid request',
    status: 400,
    detail: 'One or more fields are invalid',
    instance,
    errors: error.issues.map((issue) => ({ field: issue.path.join('.') || '(body)', message: issue.message })),
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, {
    type: TYPE_BASE + 'not-found',
    title: 'Not found',
    status: 404,
    detail: `No route for ${req.method} ${req.path}`,
    instance: req.originalUrl,
  });
};

/** A dependency away for a moment: 503 with Retry-After; the request may succeed when asked again. */
function sendUnavailable(res: Response, instance: string, retryAfterS: number, detail: string): void {
  res.set('Retry-After', String(retryAfterS));
  sendProblem(res, { type: TYPE_BASE + 'service-unavailable', title: 'Service unavailable', status: 503, detail, instance });
}

/** Unhandled errors are logged with their stack on the request's logger (which carries its id). */
export function errorHandler(logger: Logger = rootLogger()): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (res.headersSent) return;
    if (error instanceof ProblemError) {
      if (error.retryAfterS !== undefined) res.set('Retry-After', String(error.retryAfterS));
      return sendProblem(res, {
        ...error.extensions, // first: an extension can never replace a standard member
        type: TYPE_BASE + error.slug,
        title: error.title,
        status: error.status,
        detail: error.message,
        instance: req.originalUrl,
      });
    }
    if (error instanceof z.ZodError) return sendProblem(res, validationProblem(error, req.originalUrl));
    // express.json() failures: malformed JSON or a body that is too large are the client's doing.
    const status = (error as { status?: number; type?: string }).status;
    if (status && status >= 400 && status < 500) {
      return sendProblem(res, {
        type: TYPE_BASE + 'bad-request',
        title: 'Bad request',
        status,
        detail: (error as Error).message,
        instance: req.originalUrl,
      });
    }
    // PostgreSQL restarting or away: the request may succeed in a moment, and the process stays up.
    if (isDatabaseUnavailable(error)) {
      logger.warn(`database unavailable on ${req.method} ${req.originalUrl}: ${(error as Error).message}`);
      return sendUnavailable(res, req.originalUrl, 5, 'The database is unreachable right now; retry shortly.');
    }
    // The workflow's task is being retried (a worker died mid-task): nothing was admitted; in a moment it takes messages again.
    if (isWorkflowTaskRetrying(error)) {
      logger.warn(`workflow task being retried on ${req.method} ${req.originalUrl}: ${(error as Error).message}`);
      return sendUnavailable(res, req.originalUrl, 2, 'The workflow behind this request is being recovered by the engine (its last task is being retried); nothing was changed: retry shortly.');
    }
    // pino-http logs the request's one line with this error and its stack; without it, log it here.
    if (req.log) res.err = error as Error;
    else logger.error({ err: error }, `unhandled error on ${req.method} ${req.originalUrl}`);
    sendProblem(res, {
      type: TYPE_BASE + 'internal',
      title: 'Internal error',
      status: 500,
      detail: 'The server failed to handle the request; it has been logged.',
      instance: req.originalUrl,
    });
  };
}
