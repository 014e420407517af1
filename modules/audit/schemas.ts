import { z } from 'zod';
import { idSchema, safeText } from '../shared/validation';

const json = z.record(z.string(), z.unknown());

export const auditEntrySchema = z.object({
  actor: idSchema,
  actorRole: idSchema,
  action: idSchema,
  targetType: idSchema,
  targetId: idSchema,
  outcome: z.enum(['ACCEPTED', 'REFUSED']).default('ACCEPTED'),
  before: json.optional(),
  after: json.optional(),
  details: json.optional(),
  requestId: safeText(200).optional(),
  workflowId: safeText(300).optional(),
  runId: safeText(100).optional(),
  /** A request's Idempotency-Key (namespaced by its caller): a retried request is audited once. */
  idempotencyKey: safeText(300).optional(),
});
export type AuditEntryInput = z.input<typeof auditEntrySchema>;

export interface AuditEvent extends Omit<z.infer<typeof auditEntrySchema>, 'outcome'> {
  id: number;
  at: string;
  outcome: 'ACCEPTED' | 'REFUSED';
}
