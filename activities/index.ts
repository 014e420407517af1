import { createAfterSalesActivities } from './after-sales';
import { createCatalogActivities } from './catalog';
import { createEventActivities } from './events';
import type { ActivityDeps, PaymentActivityDeps } from './deps';
import { createFinanceActivities } from './finance';
import { createFlashSaleActivities } from './flash-sale';
import { createGroupBuyActivities } from './group-buy';
import { createInventoryActivities } from './inventory';
import { createLogisticsActivities } from './logistics';
import { createMarketingActivities } from './marketing';
import { createMemberActivities } from './member';
import { createOpsActivities } from './ops';
import { createOrderActivities } from './orders';
import { createParcelActivities } from './parcels';
import { createPlacementActivities } from './placement';
import { createSecurityActivities } from './security';
import { createReportsActivities } from './reports';

export type { ActivityDeps } from './deps';

/** Every activity the engine's workers serve, built from their dependencies. */
export function createActivities(deps: PaymentActivityDeps) {
  return {
    ...createOpsActivities(deps),
    ...createCatalogActivities(deps),
    ...createInventoryActivities(deps),
    ...createMemberActivities(deps),
    ...createMarketingActivities(deps),
    ...createFinanceActivities(deps),
    ...createOrderActivities(deps),
    ...createAfterSalesActivities(deps),
    ...createFlashSaleActivities(deps),
    ...createGroupBuyActivities(deps),
    ...createSecurityActivities(deps),
    ...createReportsActivities(deps),
    ...createParcelActivities(deps),
    ...createEventActivities(deps),
    ...createLogisticsActivities(deps),
    ...createPlacementActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
