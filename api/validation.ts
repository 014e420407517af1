import type { RequestHandler } from 'express';
import { z } from 'zod';
import { findUnsafeString, idempotencyKeySchema, idSchema, isSafeText, safeText, UNSAFE_TEXT_MESSAGE } from '../modules/shared/validation';
import { sendProblem, validationProblem } from './problem';

/**
 * The API's input types: every body field, path id, query value and header the routes read is one of
 * these (modules/shared/validation.ts), and `rejectUnsafeInput` refuses the unsafe characters anywhere
 * in a request before any route runs, so a field a route forgets is still covered.
 */
export { idSchema, idempotencyKeySchema, safeText };

/** `/things/{id}`: the id, validated before any Temporal or SQL call. */
export const idParams = z.object({ id: idSchema });
export const campaignParams = z.object({ campaignId: idSchema });

/** An optional Idempotency-Key (refund requests, flash-sale attempts). */
export const optionalIdempotencyKey = idempotencyKeySchema.optional();

/** The `id` path parameter of a route, parsed (a bad one is 400 with the field named). */
export function pathId(params: unknown): string {
  return idParams.parse(params).id;
}

function refused(field: string, message: string) {
  return validationProblem(new z.ZodError([{ code: 'custom', path: [field], message, input: undefined }]));
}

/**
 * The safety net under every route: NUL characters and unpaired surrogates in the path, the query or
 * the JSON body are 400 problem+json, whatever the route's own schema says.
 */
export const rejectUnsafeInput: RequestHandler = (req, res, next) => {
  for (const segment of req.path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return sendProblem(res, { ...refused('(path)', 'is not valid percent-encoded UTF-8'), instance: req.originalUrl });
    }
    if (!isSafeText(decoded)) return sendProblem(res, { ...refused('(path)', UNSAFE_TEXT_MESSAGE), instance: req.originalUrl });
  }
  const inQuery = findUnsafeString(req.query);
  if (inQuery) return sendProblem(res, { ...refused(['query', ...inQuery.path].join('.'), UNSAFE_TEXT_MESSAGE), instance: req.originalUrl });
  const inBody = findUnsafeString(req.body);
  if (inBody) {
    const message = inBody.tooDeep ? 'nests too deeply' : UNSAFE_TEXT_MESSAGE;
    return sendProblem(res, { ...refused(inBody.path.join('.') || '(body)', message), instance: req.originalUrl });
  }
  next();
};
