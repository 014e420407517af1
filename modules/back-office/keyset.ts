import { z } from 'zod';

/**
 * Keyset pagination: a page ends at the last row's (sort value, id); the next page starts strictly
 * after it. Rows inserted meanwhile land before or after the cursor but never shift the pages, so
 * paging sees no duplicate and skips nothing that existed when it started.
 */
const cursorSchema = z.object({ v: z.union([z.string(), z.number()]), id: z.string() });

export function encodeCursor(value: string | number, id: string): string {
  return Buffer.from(JSON.stringify({ v: value, id })).toString('base64url');
}

export function decodeCursor(cursor: string): { v: string | number; id: string } {
  try {
    return cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    // A ZodError: a bad cursor is the caller's mistake (400), like any other bad parameter.
    throw new z.ZodError([{ code: 'custom', path: ['cursor'], message: 'not a cursor this API gave out', input: cursor }]);
  }
}

/** Accumulates SQL conditions with numbered parameters. */
export class Conditions {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];
  add(sql: (param: string) => string, value: unknown): void {
    if (value === undefined) return;
    this.params.push(value);
    this.clauses.push(sql(`$${this.params.length}`));
  }
  where(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}

/** Adds the "after the cursor" condition for `ORDER BY column dir, id dir`. */
export function afterCursor(conditions: Conditions, column: string, idColumn: string, direction: 'asc' | 'desc', cursor: string | undefined, cast: string): void {
  if (!cursor) return;
  const { v, id } = decodeCursor(cursor);
  const op = direction === 'asc' ? '>' : '<';
  conditions.params.push(v, id);
  const n = conditions.params.length;
  conditions.clauses.push(`(${column}, ${idColumn}) ${op} ($${n - 1}::${cast}, $${n}::text)`);
}
