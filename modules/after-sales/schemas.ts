import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1).max(max);

/** An agent's, the system's or ops' decision as the refund workflow recorded it (the audit row). */
export const recordDecisionSchema = z.object({
  requestId: text(300),
  orderId: text(200),
  decision: z.enum(['APPROVED', 'REJECTED']),
  decidedBy: text(200),
  channel: z.enum(['api', 'signal', 'auto']),
  approvedFen: z.number().int().min(0).optional(),
  reason: z.string().trim().max(1000).optional(),
  decidedAt: z.iso.datetime(),
  workflowId: text(300),
  runId: text(200),
});
export type RecordDecisionInput = z.input<typeof recordDecisionSchema>;

export const listRequestsSchema = z.object({
  status: z.string().trim().min(1).max(32).optional(),
  limit: z.number().int().min(1).max(200).default(50),
});
export type ListRequestsInput = z.input<typeof listRequestsSchema>;
