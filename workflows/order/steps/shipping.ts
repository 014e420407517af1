import { patched } from '@temporalio/workflow';
import { forward, mustComplete } from '../../shared/activities';
import type { OrderContext } from '../context';
import type { ShippingAddress, ShippingView } from '../shipping-definitions';

type FreightQuote = ShippingView['freight'];
type RegionCodes = Pick<ShippingAddress, 'provinceCode' | 'cityCode' | 'districtCode'>;

/** Versioning rule: orders placed before addresses and freight existed replay without these steps. */
export const SHIPPING_PATCH = 'shipping-address-and-freight';

/**
 * Freight for the order's destination (modules/logistics/freight.ts), added to the price breakdown
 * (totals.freightFen, inside payableFen): returns it. A region the shop does not deliver to refuses
 * placement (REGION_NOT_DELIVERED) before anything is held. `goodsFen` is what the free-shipping
 * threshold compares: the goods after promotions and coupon.
 */
export async function priceFreight(order: OrderContext, goodsFen: number): Promise<number> {
  const destination = placementDestination(order);
  if (!destination) return 0;
  const quote = await order.placing.quoteFreight.executeWithOptions({ summary: 'price freight (运费模板)' }, [
    { destination, lines: order.input.lines.map((line) => ({ skuId: line.skuId, quantity: line.quantity })), goodsFen },
  ]);
  return applyFreight(order, quote);
}

/** Where placement prices freight to; none for orders without an address, or from before addresses and freight. */
export function placementDestination(order: OrderContext): RegionCodes | undefined {
  const address = order.shippingAddress;
  if (!address || !(order.localSteps || patched(SHIPPING_PATCH))) return undefined;
  return { provinceCode: address.provinceCode, cityCode: address.cityCode, districtCode: address.districtCode };
}

/** The freight quote in the order's price breakdown and its shipping view; returns the freight. */
export function applyFreight(order: OrderContext, quote: FreightQuote): number {
  const { totals } = order.view;
  totals.freightFen = quote.freightFen;
  totals.payableFen += quote.freightFen;
  order.view.shipping = { addressVersion: 0, freight: quote };
  return quote.freightFen;
}

/**
 * Keeps the address where the warehouse reads it (logistics.order_addresses). The version is taken
 * before the write, so two changes at once get distinct versions and the newer one stays.
 */
export async function keepAddress(order: OrderContext, address: ShippingAddress): Promise<void> {
  order.addressVersion += 1;
  const version = order.addressVersion;
  order.shippingAddress = address;
  if (order.view.shipping) order.view.shipping.addressVersion = version;
  await order.placingMustComplete.saveOrderAddress.executeWithOptions({ summary: `keep the shipping address (version ${version})` }, [
    { orderId: order.orderId, version, address },
  ]);
}

/**
 * After a successful placement: the address is kept only for orders that will ship (a rejected one
 * leaves none). With fewer steps, the projection that shows the order awaiting payment writes it, in
 * the same statement (one local activity less); before, its own step.
 */
export async function keepPlacementAddress(order: OrderContext): Promise<void> {
  if (!order.shippingAddress || !order.view.shipping || order.addressVersion !== 0) return;
  if (!order.fewerSteps) return keepAddress(order, order.shippingAddress);
  order.addressVersion = 1;
  order.view.shipping.addressVersion = 1;
  order.unwrittenAddress = { version: 1, address: order.shippingAddress };
}
