import { createMarketingService } from '../modules/marketing/service';
import {
  compensationSchema,
  couponOrderSchema,
  lockCouponSchema,
  quoteSchema,
  type CompensationInput,
  type LockCouponInput,
  type QuoteInput,
  type ReturnCouponInput,
  type UseCouponInput,
} from '../modules/marketing/schemas';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

/** Activities of the marketing module: thin wrappers over its service (see modules/README.md). */
export function createMarketingActivities(deps: ActivityDeps) {
  const marketing = createMarketingService({ pool: deps.pool, clock: deps.clock });
  return {
    quoteOrder: (input: QuoteInput) => asActivity(() => marketing.quote(quoteSchema.parse(input))),
    lockCoupon: (input: LockCouponInput) => asActivity(() => marketing.lockCoupon(lockCouponSchema.parse(input))),
    unlockCoupon: (input: CompensationInput) => asActivity(() => marketing.unlockCoupon(compensationSchema.parse(input))),
    useCoupon: (input: UseCouponInput) => asActivity(() => marketing.useCoupon(couponOrderSchema.parse(input))),
    returnCoupon: (input: ReturnCouponInput) => asActivity(() => marketing.returnCoupon(couponOrderSchema.parse(input))),
  };
}

export type MarketingActivities = ReturnType<typeof createMarketingActivities>;
