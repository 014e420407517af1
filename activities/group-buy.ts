import { createGroupBuyService, type ReturnLimitInput, type TakeLimitInput } from '../modules/group-buy';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

/** Activities of the group-buy per-user limit: thin wrappers over its service (see modules/README.md). */
export function createGroupBuyActivities(deps: ActivityDeps) {
  const groupBuy = createGroupBuyService({ pool: deps.pool, clock: deps.clock });
  return {
    /** Takes the member order's units of the buyer's campaign limit (key `<orderId>:group-limit`); LIMIT_REACHED otherwise. */
    takeGroupBuyLimit: (input: TakeLimitInput) => asActivity(() => groupBuy.takeLimit(input)),
    /** Compensation (same key): the units go back to the buyer's limit. */
    returnGroupBuyLimit: (input: ReturnLimitInput) => asActivity(() => groupBuy.returnLimit(input)),
  };
}

export type GroupBuyActivities = ReturnType<typeof createGroupBuyActivities>;
