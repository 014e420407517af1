import type { Pool } from 'pg';
import { SKUS_JSON, skuIdsToRead, skusForSale } from '../modules/catalog';
import { DEFAULT_TEMPLATE_JSON, MEMBER_ADDRESS_CANDIDATES_JSON, templateFromJson } from '../modules/logistics';
import { MEMBER_EXISTS } from '../modules/member';
import { ORDER_EXISTS_AND_COUNT_JSON } from '../modules/orders/projection';
import { DomainError } from '../modules/shared/errors';
import type { ShippingAddress } from '../workflows/order/shipping-definitions';
import { ProblemError, unprocessable } from './problem';
import { createShippingChecks, type ShippingRequest } from './shipping';

/**
 * What placement checks before anything is written or any workflow starts: refusals a workflow would
 * only find later, after money or stock moved (an unknown member fails after the payment is captured).
 * Everything placement reads for them (member, SKUs, the saved or default address, the freight
 * template, the unpaid orders) is read in one statement, from each module's own SQL fragment, and
 * judged by that module's own rules; the route then asks for the verdicts in the order it answers
 * refusals. A 422 from here has the same shape as a workflow's rejection (`reason` = the module's
 * code), without an order id: no order exists.
 */
export interface PlacementReadRequest {
  customerId: string;
  /** The SKUs the order buys (standard orders; campaigns check their SKU themselves). */
  skuIds?: string[];
  /** Where it ships: the body's address fields. */
  shipping: ShippingRequest;
  /** The unpaid-orders cap (undefined: none), for order `orderId`. */
  unpaid?: { orderId: string; cap: number | undefined };
}

export function createPlacementChecks({ pool }: { pool: Pool }) {
  const shipping = createShippingChecks({ pool });

  async function read(request: PlacementReadRequest) {
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const member = param(request.customerId);
    const skuIds = request.skuIds ? skuIdsToRead(request.skuIds) : undefined;
    const cap = request.unpaid?.cap;
    const needsSaved = !request.shipping.shippingAddress;
    const found = await pool.query<{ member: boolean; skus: unknown[] | null; addresses: unknown[] | null; template: unknown; unpaid: { exists: boolean; count: number } | null }>(
      `SELECT ${MEMBER_EXISTS(member)} AS member,
              ${skuIds ? SKUS_JSON(param(skuIds)) : 'NULL'} AS skus,
              ${needsSaved ? MEMBER_ADDRESS_CANDIDATES_JSON(member, param(request.shipping.addressId ?? null)) : 'NULL'} AS addresses,
              ${DEFAULT_TEMPLATE_JSON} AS template,
              ${cap !== undefined ? ORDER_EXISTS_AND_COUNT_JSON(param(request.unpaid!.orderId), member, param('PENDING_PAYMENT')) : 'NULL'} AS unpaid`,
      params,
    );
    const row = found.rows[0];
    return {
      /** The buyer is a member of the shop. */
      assertMember(): void {
        if (!row.member) {
          throw unprocessable('order-rejected', `customer ${request.customerId} is not a member of this shop`, { reason: 'MEMBER_NOT_FOUND', customerId: request.customerId });
        }
      },
      /** Every SKU exists and is for sale (SKU_NOT_FOUND / SKU_INACTIVE name the first that is not). */
      assertSkus(): void {
        if (!skuIds) return;
        try {
          skusForSale(skuIds, row.skus ?? []);
        } catch (error) {
          if (error instanceof DomainError) throw unprocessable('order-rejected', error.message, { reason: error.code, ...error.details });
          throw error;
        }
      },
      /** Where it ships (400 for the address, 422 when the shop does not deliver there). */
      shippingAddress(): Promise<ShippingAddress> {
        return shipping.placementAddress(request.shipping, row.addresses ?? [], templateFromJson(row.template));
      },
      /**
       * The customer's unpaid orders stay under the cap (each holds stock, coupon and points until its
       * payment timeout): 429, nothing reserved. A retry of an order that exists is never refused.
       */
      assertUnpaidBelowCap(): void {
        if (cap === undefined || !row.unpaid) return;
        const { exists, count: unpaid } = row.unpaid;
        if (!exists && unpaid >= cap) {
          throw new ProblemError(429, 'unpaid-orders-cap', 'Too many unpaid orders', `pay or cancel one of your ${unpaid} unpaid orders first (at most ${cap})`, {
            unpaidOrders: unpaid,
            cap,
          });
        }
      },
    };
  }

  return { read };
}

export type PlacementChecks = ReturnType<typeof createPlacementChecks>;
