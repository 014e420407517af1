import { createCatalogService, getSkusForOrderSchema, type GetSkusForOrderInput, type Sku } from '../modules/catalog';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

/** Activities of the catalog module: thin wrappers over its service (see modules/README.md). */
export function createCatalogActivities(deps: ActivityDeps) {
  const catalog = createCatalogService({ pool: deps.pool });
  return {
    /** List prices of the order's SKUs; SKU_NOT_FOUND / SKU_INACTIVE when one cannot be sold. */
    async getSkusForOrder(input: GetSkusForOrderInput): Promise<Sku[]> {
      return asActivity(() => catalog.getSkus(getSkusForOrderSchema.parse(input).skuIds));
    },
  };
}

export type CatalogActivities = ReturnType<typeof createCatalogActivities>;
