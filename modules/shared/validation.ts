import { z } from 'zod';

/**
 * The one string type of the engine's inputs. Every string that reaches PostgreSQL or a Temporal
 * payload passes here, so a class of bad input is closed once rather than per field:
 * - NUL (U+0000): PostgreSQL `text` and `jsonb` cannot store it (the write fails, the activity retries forever);
 * - an unpaired UTF-16 surrogate: not encodable as UTF-8, refused by jsonb and by protobuf payloads;
 * - unbounded length: every string has a maximum.
 */
const UNSAFE_CHARACTERS = /[\u0000\p{Cs}]/u;
export const UNSAFE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

export function isSafeText(value: string): boolean {
  return !UNSAFE_CHARACTERS.test(value);
}

/** Free text (names, reasons, carrier names): safe characters, at most `max` of them. */
export function safeText(max: number) {
  return z.string().max(max).refine(isSafeText, UNSAFE_TEXT_MESSAGE);
}

/**
 * Ids (orders, refunds, SKUs, members, campaigns, coupons, groups, warehouses): readable ASCII
 * without spaces or slashes, so they can travel in a path segment, a workflow id and a log line.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/;
export const ID_MAX_LENGTH = 128;
export const idSchema = z
  .string()
  .min(1)
  .max(ID_MAX_LENGTH)
  .regex(ID_PATTERN, 'must be letters, digits and _ . : @ - (starting with a letter or digit)');

/** Idempotency keys are chosen by clients (UUIDs, order numbers...): visible ASCII, 8 to 128 characters. */
export const idempotencyKeySchema = z
  .string({ error: 'the Idempotency-Key header is required' })
  .min(8, 'the Idempotency-Key header must have 8 to 128 characters')
  .max(128, 'the Idempotency-Key header must have 8 to 128 characters')
  .regex(/^[\x21-\x7E]+$/, 'the Idempotency-Key header must be visible ASCII characters');

/** The most nesting a request body may have; deeper is refused rather than walked. */
export const MAX_NESTING = 32;

/**
 * Where the first unsafe string (value or key) of a parsed JSON value is, as a path; `tooDeep` when the
 * value nests deeper than MAX_NESTING. Undefined when every string is safe.
 */
export function findUnsafeString(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; tooDeep?: true } | undefined {
  if (typeof value === 'string') return isSafeText(value) ? undefined : { path };
  if (value === null || typeof value !== 'object') return undefined;
  if (path.length >= MAX_NESTING) return { path, tooDeep: true };
  for (const [key, inner] of Object.entries(value)) {
    if (!isSafeText(key)) return { path: [...path, key] };
    const found = findUnsafeString(inner, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return undefined;
}
