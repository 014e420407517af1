import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes: what ops filter on in the Temporal UI, e.g. `OrderStatus = "PENDING_PAYMENT"`.
 * The dev server registers them at start (infra/temporal.ts); on a real cluster register them once with
 * `temporal operator search-attribute create` (see README).
 */
export const OrderId = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const CustomerId = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const OrderType = defineSearchAttributeKey('OrderType', SearchAttributeType.KEYWORD);
export const OrderStatus = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const OrderTotal = defineSearchAttributeKey('OrderTotal', SearchAttributeType.INT);
export const CampaignId = defineSearchAttributeKey('CampaignId', SearchAttributeType.KEYWORD);
/** The order's phase (workflows/order/phase.ts), finer than its status: `OrderPhase = "NEEDS_ATTENTION"`. */
export const OrderPhase = defineSearchAttributeKey('OrderPhase', SearchAttributeType.KEYWORD);

/** Where the order was sold (app, mini_program, h5, live_stream, pos): `SalesChannel = "live_stream"`. Never PII. */
export const SalesChannel = defineSearchAttributeKey('SalesChannel', SearchAttributeType.KEYWORD);

export const customSearchAttributes = [OrderId, CustomerId, OrderType, OrderStatus, OrderTotal, CampaignId, OrderPhase, SalesChannel];
