import {
  commitCampaignStockSchema,
  commitSchema,
  compensationSchema,
  createInventoryService,
  reserveCampaignStockSchema,
  reserveSchema,
  restockSchema,
  type CommitCampaignStockInput,
  type CommitInput,
  type CompensationInput,
  type ReserveCampaignStockInput,
  type ReserveInput,
  type RestockInput,
} from '../modules/inventory';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

/** Activities of the inventory module: thin wrappers over its service (see modules/README.md). */
export function createInventoryActivities(deps: ActivityDeps) {
  const inventory = createInventoryService({ pool: deps.pool, clock: deps.clock });
  return {
    /** All lines or nothing; OUT_OF_STOCK names the short SKU. */
    async reserveStock(input: ReserveInput) {
      return asActivity(() => inventory.reserve(reserveSchema.parse(input)));
    },
    /** Compensation of reserveStock: same idempotencyKey. */
    async releaseStock(input: CompensationInput) {
      return asActivity(() => inventory.release(compensationSchema.parse(input)));
    },
    /** At shipment; `reservationKey` is the key reserveStock ran with. */
    async commitStock(input: CommitInput) {
      return asActivity(() => inventory.commit(commitSchema.parse(input)));
    },
    /** Returned goods back on hand; never more than was shipped for the order. */
    async restockReturn(input: RestockInput) {
      return asActivity(() => inventory.restock(restockSchema.parse(input)));
    },
    async reserveCampaignStock(input: ReserveCampaignStockInput) {
      return asActivity(() => inventory.reserveCampaignStock(reserveCampaignStockSchema.parse(input)));
    },
    /** Compensation of reserveCampaignStock: same idempotencyKey. */
    async releaseCampaignStock(input: CompensationInput) {
      return asActivity(() => inventory.releaseCampaignStock(compensationSchema.parse(input)));
    },
    async commitCampaignStock(input: CommitCampaignStockInput) {
      return asActivity(() => inventory.commitCampaignStock(commitCampaignStockSchema.parse(input)));
    },
  };
}

export type InventoryActivities = ReturnType<typeof createInventoryActivities>;
