import { createAddressService, createFreightService, type FreightQuote, type QuoteFreightInput, type ShippingAddress } from '../modules/logistics';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

/** Activities of the logistics module (addresses, freight): thin wrappers over its services. */
export function createLogisticsActivities(deps: ActivityDeps) {
  const freight = createFreightService({ pool: deps.pool });
  const addresses = createAddressService({ pool: deps.pool });
  return {
    /** The order's freight to its destination; REGION_NOT_DELIVERED when the shop does not deliver there. */
    async quoteFreight(input: QuoteFreightInput): Promise<FreightQuote> {
      return asActivity(() => freight.quote(input));
    },
    /** Where the order ships (placement: version 1; each accepted change: the next version). Idempotent. */
    async saveOrderAddress(input: { orderId: string; version: number; address: ShippingAddress }): Promise<void> {
      return asActivity(() => addresses.saveOrderAddress(input));
    },
  };
}

export type LogisticsActivities = ReturnType<typeof createLogisticsActivities>;
