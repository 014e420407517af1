import type { Pool } from 'pg';
import { z } from 'zod';
import { addressFromCandidates, createAddressService, createFreightService, InvalidRegionError, priceFreight, shippingAddressSchema, UndeliverableRegionError, type FreightTemplate } from '../modules/logistics';
import { DomainError } from '../modules/shared/errors';
import { channelAllowed, channelName, parseChannelName, SALES_CHANNELS, type SalesChannel, type ShippingAddress } from '../workflows/order/shipping-definitions';
import type { Principal } from './auth';
import { registry } from './openapi';
import { ProblemError, unprocessable } from './problem';
import { idSchema } from './validation';

/**
 * Where a physical order ships and where it was sold, as placement (every order type) reads them:
 * the address from the body, a saved address (`addressId`) or the member's default one; its regions
 * against logistics.regions (400 with field errors) and the freight template (422 when not
 * delivered to), all before the Idempotency-Key row or anything else is written.
 */
// A new object over the module's fields: the module's schema may be built before zod is extended for OpenAPI.
export const ShippingAddressBody = registry.register('ShippingAddress', z.object(shippingAddressSchema.shape).strict());

const place = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (at most 64)');
export const SalesChannelBody = registry.register(
  'SalesChannel',
  z
    .object({ kind: z.enum(SALES_CHANNELS), roomId: place.optional(), storeId: place.optional() })
    .strict()
    .superRefine((channel, ctx) => {
      if (channel.kind === 'live_stream' && !channel.roomId) ctx.addIssue({ code: 'custom', path: ['roomId'], message: 'a live_stream order names its room' });
      if (channel.kind === 'pos' && !channel.storeId) ctx.addIssue({ code: 'custom', path: ['storeId'], message: 'a pos order names its store' });
      if (channel.kind !== 'live_stream' && channel.roomId) ctx.addIssue({ code: 'custom', path: ['roomId'], message: 'only live_stream orders have a room' });
      if (channel.kind !== 'pos' && channel.storeId) ctx.addIssue({ code: 'custom', path: ['storeId'], message: 'only pos orders have a store' });
    }),
);

/** The fields every placement body may carry (spread into each route's schema). */
export const shippingFields = {
  /** Where to ship; or `addressId` of a saved address; neither: the member's default address. */
  shippingAddress: ShippingAddressBody.optional(),
  addressId: idSchema.optional(),
  /** Where the order is placed; defaults to the credential's channel (or app). */
  channel: SalesChannelBody.optional(),
};

export interface ShippingRequest {
  shippingAddress?: ShippingAddress;
  addressId?: string;
  channel?: SalesChannel;
}

/** A 400 like zod's, for checks zod cannot make (regions are in PostgreSQL). */
function fieldErrors(errors: { field: string; message: string }[]): z.ZodError {
  return new z.ZodError(errors.map((error) => ({ code: 'custom' as const, path: error.field.split('.'), message: error.message, input: undefined })));
}

export function createShippingChecks({ pool }: { pool: Pool }) {
  const addresses = createAddressService({ pool });
  const freight = createFreightService({ pool });

  /** The regions exist and nest: else 400 naming `<field>.provinceCode` etc. */
  async function validate(address: ShippingAddress, field = 'shippingAddress'): Promise<ShippingAddress> {
    try {
      return await addresses.validate(address);
    } catch (error) {
      if (error instanceof InvalidRegionError) throw fieldErrors(error.fieldErrors.map((wrong) => ({ field: field ? `${field}.${wrong.field}` : wrong.field, message: wrong.message })));
      throw error;
    }
  }

  /** The shop delivers there under `template` (the default one): else 422 REGION_NOT_DELIVERED, nothing held. */
  function assertDeliversUnder(template: FreightTemplate | undefined, address: ShippingAddress): void {
    try {
      priceFreight(template, address, [], 0);
    } catch (error) {
      if (error instanceof UndeliverableRegionError) throw unprocessable('order-rejected', error.message, { reason: error.code, ...error.details });
      throw error;
    }
  }

  async function assertDelivers(address: ShippingAddress): Promise<void> {
    assertDeliversUnder(await freight.defaultTemplate(), address);
  }

  /**
   * The order's address from what placement read in its one statement (placement-checks.ts): the
   * body's, the saved one it names (`addressId`), or the member's default (`candidates`); then its
   * regions (400 naming the field) and delivery under the default `template` (422).
   */
  async function placementAddress(body: ShippingRequest, candidates: readonly unknown[], template: FreightTemplate | undefined): Promise<ShippingAddress> {
    if (body.shippingAddress && body.addressId) throw fieldErrors([{ field: 'addressId', message: 'give shippingAddress or addressId, not both' }]);
    let address = body.shippingAddress;
    if (!address) {
      const saved = addressFromCandidates(candidates, body.addressId);
      if (!saved && body.addressId) throw fieldErrors([{ field: 'addressId', message: `no saved address ${body.addressId}` }]);
      if (!saved) throw fieldErrors([{ field: 'shippingAddress', message: 'a shipping address is required (or save a default address at /members/me/addresses)' }]);
      address = strip(saved);
    }
    const valid = await validate(address);
    assertDeliversUnder(template, valid);
    return valid;
  }

  /** A change of address: regions, delivery, and no more freight than the order paid (the paid freight stands). */
  async function assertChangeKeepsFreight(address: ShippingAddress, order: { lines: { skuId: string; quantity: number }[]; totals: { listFen: number; promotionDiscountFen: number; couponDiscountFen: number; freightFen?: number } }) {
    await validate(address, 'address');
    await assertDelivers(address);
    const { totals } = order;
    try {
      const quote = await freight.quote({ destination: address, lines: order.lines.map(({ skuId, quantity }) => ({ skuId, quantity })), goodsFen: totals.listFen - totals.promotionDiscountFen - totals.couponDiscountFen });
      if (quote.freightFen > (totals.freightFen ?? 0)) {
        throw unprocessable('freight-differs', `shipping there costs ${quote.freightFen} fen of freight, the order paid ${totals.freightFen ?? 0}: cancel and order again`, {
          reason: 'FREIGHT_HIGHER',
          freightFen: quote.freightFen,
        });
      }
    } catch (error) {
      if (error instanceof DomainError) throw unprocessable('order-rejected', error.message, { reason: error.code });
      throw error;
    }
  }

  return { placementAddress, validate, assertChangeKeepsFreight, addresses };
}

export type ShippingChecks = ReturnType<typeof createShippingChecks>;

function strip(saved: ShippingAddress & { addressId?: string; isDefault?: boolean }): ShippingAddress {
  const { addressId: _id, isDefault: _default, ...address } = saved;
  return address;
}

/**
 * The order's channel: the credential's when it names one (a body naming another is 403), else the
 * body's, else the app.
 */
export function channelFor(principal: Principal, requested: SalesChannel | undefined): SalesChannel {
  const fixed = principal.channel ? parseChannelName(principal.channel) : undefined;
  if (fixed) {
    if (requested && channelName(requested) !== channelName(fixed)) {
      throw new ProblemError(403, 'forbidden', 'Forbidden', `this credential places orders through ${channelName(fixed)} only`);
    }
    return fixed;
  }
  return requested ?? { kind: 'app' };
}

/** Channel-only campaigns (a flash sale for one live-stream room): 422 CHANNEL_NOT_ALLOWED for any other channel, before anything is taken. */
export function assertChannelAllowed(campaign: { id: string; channels?: string[] }, channel: SalesChannel): void {
  if (!channelAllowed(campaign.channels, channel)) {
    throw unprocessable('order-rejected', `campaign ${campaign.id} is sold only through ${campaign.channels!.join(', ')}`, {
      reason: 'CHANNEL_NOT_ALLOWED',
      channels: campaign.channels,
    });
  }
}
