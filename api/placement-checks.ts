import type { Pool } from 'pg';
import { createCatalogService } from '../modules/catalog';
import { createMemberService } from '../modules/member';
import { createOrderProjection } from '../modules/orders/projection';
import { DomainError } from '../modules/shared/errors';
import { ProblemError, unprocessable } from './problem';

/**
 * What placement checks before anything is written or any workflow starts: refusals a workflow would
 * only find later, after money or stock moved (an unknown member fails after the payment is captured).
 * Reads through the modules' services. A 422 from here has the same shape as a workflow's rejection
 * (`reason` = the module's code), without an order id: no order exists.
 */
export function createPlacementChecks({ pool }: { pool: Pool }, knownMembersMax = 100_000) {
  const members = createMemberService({ pool });
  const catalog = createCatalogService({ pool });
  const orders = createOrderProjection({ pool });
  // Members are never deleted: once seen, a member id is not read again (flash-sale buyers retry a lot).
  const knownMembers = new Set<string>();

  async function assertMember(customerId: string): Promise<void> {
    if (knownMembers.has(customerId)) return;
    try {
      await members.getMember(customerId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'MEMBER_NOT_FOUND') {
        throw unprocessable('order-rejected', `customer ${customerId} is not a member of this shop`, { reason: error.code, customerId });
      }
      throw error;
    }
    if (knownMembers.size >= knownMembersMax) knownMembers.clear();
    knownMembers.add(customerId);
  }

  /** Every SKU exists and is for sale (SKU_NOT_FOUND / SKU_INACTIVE name the first that is not). */
  async function assertSkus(skuIds: string[]): Promise<void> {
    try {
      await catalog.getSkus(skuIds);
    } catch (error) {
      if (error instanceof DomainError && (error.code === 'SKU_NOT_FOUND' || error.code === 'SKU_INACTIVE')) {
        throw unprocessable('order-rejected', error.message, { reason: error.code, ...error.details });
      }
      throw error;
    }
  }

  /**
   * The customer's unpaid orders stay under the cap (each holds stock, coupon and points until its
   * payment timeout): 429, nothing reserved. A retry of an order that exists is never refused.
   */
  async function assertUnpaidBelowCap(customerId: string, orderId: string, cap: number | undefined): Promise<void> {
    if (cap === undefined) return;
    const { exists, count: unpaid } = await orders.existsAndCountByCustomer(orderId, customerId, 'PENDING_PAYMENT');
    if (!exists && unpaid >= cap) {
      throw new ProblemError(429, 'unpaid-orders-cap', 'Too many unpaid orders', `pay or cancel one of your ${unpaid} unpaid orders first (at most ${cap})`, {
        unpaidOrders: unpaid,
        cap,
      });
    }
  }

  return { assertMember, assertSkus, assertUnpaidBelowCap };
}

export type PlacementChecks = ReturnType<typeof createPlacementChecks>;

/**
 * Runs checks that do not depend on each other at once (the buyer waits one round trip, not one per
 * check) and answers as if they had run one after the other: the first refusal in the order given
 * is thrown, whichever finished first, so the same request always gets the same answer.
 */
export async function allInOrder<T extends readonly unknown[]>(checks: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(checks as readonly Promise<unknown>[]);
  const refused = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (refused) throw refused.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
