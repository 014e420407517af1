import { createMemberService } from '../modules/member/service';
import {
  awardPendingPointsSchema,
  commitHeldPointsSchema,
  compensationSchema,
  completeOrderPointsSchema,
  holdPointsSchema,
  memberIdSchema,
  returnUsedPointsSchema,
  reversePointsForRefundSchema,
  type AwardPendingPointsInput,
  type CommitHeldPointsInput,
  type CompensationInput,
  type CompleteOrderPointsInput,
  type HoldPointsInput,
  type ReturnUsedPointsInput,
  type ReversePointsForRefundInput,
} from '../modules/member/schemas';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

/** Activities of the member module: thin wrappers over its service (see modules/README.md). */
export function createMemberActivities(deps: ActivityDeps) {
  const member = createMemberService({ pool: deps.pool, clock: deps.clock });
  return {
    getMember: ({ memberId }: { memberId: string }) => asActivity(() => member.getMember(memberIdSchema.parse(memberId))),
    holdPoints: (input: HoldPointsInput) => asActivity(() => member.holdPoints(holdPointsSchema.parse(input))),
    releaseHeldPoints: (input: CompensationInput) => asActivity(() => member.releaseHeldPoints(compensationSchema.parse(input))),
    commitHeldPoints: (input: CommitHeldPointsInput) => asActivity(() => member.commitHeldPoints(commitHeldPointsSchema.parse(input))),
    awardPendingPoints: (input: AwardPendingPointsInput) => asActivity(() => member.awardPendingPoints(awardPendingPointsSchema.parse(input))),
    revokePendingPoints: (input: CompensationInput) => asActivity(() => member.revokePendingPoints(compensationSchema.parse(input))),
    reversePointsForRefund: (input: ReversePointsForRefundInput) =>
      asActivity(() => member.reversePointsForRefund(reversePointsForRefundSchema.parse(input))),
    returnUsedPoints: (input: ReturnUsedPointsInput) => asActivity(() => member.returnUsedPoints(returnUsedPointsSchema.parse(input))),
    completeOrderPoints: (input: CompleteOrderPointsInput) =>
      asActivity(() => member.completeOrderPoints(completeOrderPointsSchema.parse(input))),
  };
}

export type MemberActivities = ReturnType<typeof createMemberActivities>;
