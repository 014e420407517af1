import { z } from 'zod';

const id = z.string().min(1).max(200);
const idempotencyKey = z.string().min(1).max(300);
const positivePoints = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const fen = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const createMemberSchema = z.object({ id, name: z.string().min(1).max(200) });
export type CreateMemberInput = z.input<typeof createMemberSchema>;

export const grantPointsSchema = z.object({ idempotencyKey, memberId: id, points: positivePoints, reason: z.string().min(1).max(500) });
export type GrantPointsInput = z.input<typeof grantPointsSchema>;

export const holdPointsSchema = z.object({ idempotencyKey, memberId: id, orderId: id, points: positivePoints });
export type HoldPointsInput = z.input<typeof holdPointsSchema>;

/** Compensations name only the key of the forward operation they undo. */
export const compensationSchema = z.object({ idempotencyKey });
export type CompensationInput = z.input<typeof compensationSchema>;

export const commitHeldPointsSchema = z.object({ idempotencyKey, holdKey: idempotencyKey });
export type CommitHeldPointsInput = z.input<typeof commitHeldPointsSchema>;

export const returnUsedPointsSchema = z.object({ idempotencyKey, memberId: id, orderId: id, points: positivePoints });
export type ReturnUsedPointsInput = z.input<typeof returnUsedPointsSchema>;

export const awardPendingPointsSchema = z.object({ idempotencyKey, memberId: id, orderId: id, paidFen: fen });
export type AwardPendingPointsInput = z.input<typeof awardPendingPointsSchema>;

export const reversePointsForRefundSchema = z.object({ idempotencyKey, memberId: id, orderId: id, refundedFen: fen });
export type ReversePointsForRefundInput = z.input<typeof reversePointsForRefundSchema>;

export const completeOrderPointsSchema = z.object({ idempotencyKey, memberId: id, orderId: id, completedSpendFen: fen });
export type CompleteOrderPointsInput = z.input<typeof completeOrderPointsSchema>;

export const memberIdSchema = id;
