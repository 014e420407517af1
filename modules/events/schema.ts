import { z } from 'zod';

/**
 * The published schema of every domain event (version 1 of each type). What a subscriber receives
 * is the envelope below with `data` of its type; `GET /events/schema.json` serves these as JSON
 * Schema and the OpenAPI document lists them as webhooks. Events carry ids and amounts, never a
 * name, phone number or address: a subscriber that needs more asks the API with the ids.
 *
 * A change that removes or retypes a field is a new version of the type (`version: 2`, both
 * published side by side); adding an optional field is not.
 */
const fen = z.number().int().describe('integer fen (1/100 yuan)');
const id = z.string().min(1).max(300);

const orderPlaced = z.object({
  orderType: z.enum(['STANDARD', 'PRESALE', 'GROUP_BUY', 'FLASH_SALE']),
  currency: z.string(),
  payableFen: fen,
  lines: z.array(z.object({ skuId: id, quantity: z.number().int().positive() })),
});
const orderRejected = z.object({ code: z.string().describe('why placement refused the order, e.g. OUT_OF_STOCK') });
const orderPaid = z.object({ paidFen: fen.describe('everything captured for the order (presale: deposit and final payment)') });
const orderCancelled = z.object({ by: z.string().describe('who cancelled: customer:<id>, system, support:<id>...'), refundedFen: fen });
const parcel = { parcelId: id.describe('`<orderId>-p<n>`, one per warehouse; `<orderId>:1` for an order shipped whole before parcels existed') };
const parcelShipped = z.object({ ...parcel, carrier: z.string(), trackingNumber: z.string() });
const parcelDelivered = z.object({ ...parcel, confirmedBy: z.string().describe("who confirmed: the buyer's or carrier's principal, or auto-confirm") });
const orderCompleted = z.object({ revenueFen: fen });
const refundRequested = z.object({ requestId: id, kind: z.string(), amountFen: fen });
const refundDecided = z.object({
  requestId: id,
  decision: z.enum(['APPROVED', 'REJECTED']),
  approvedFen: fen.nullable(),
  channel: z.string().describe('who decided: support console, API, auto-approval'),
});
const refundPaid = z.object({ requestId: id, amountFen: fen });
const finalPaymentDue = z.object({ finalBeforeCouponFen: fen, finalEnd: z.string().describe('ISO instant: the final payment window closes') });
const groupOutcome = z.object({ groupId: id, campaignId: id, virtual: z.boolean() });
const stockLow = z.object({ alertId: id, skuId: id, available: z.number().int(), threshold: z.number().int() });
const reconciliationDifference = z.object({
  reportId: id,
  date: z.string().describe('YYYY-MM-DD, the provider day checked'),
  kind: z.enum(['MISSING_IN_LEDGER', 'AMOUNT_MISMATCH', 'MISSING_AT_PROVIDER']),
  transactionId: z.string(),
  providerAmountFen: fen.nullable(),
  ledgerAmountFen: fen.nullable(),
});

/** Type → { version, data schema, what it means and its event id }. */
export const EVENT_TYPES = {
  'order.placed': { version: 1, data: orderPlaced, id: '<orderId>:placed', about: 'placement held everything and opened the payment' },
  'order.rejected': { version: 1, data: orderRejected, id: '<orderId>:rejected', about: 'placement refused the order; nothing is held' },
  'order.paid': { version: 1, data: orderPaid, id: '<orderId>:paid', about: 'the order is paid in full and captured (presale: after the final payment)' },
  'order.cancelled': { version: 1, data: orderCancelled, id: '<orderId>:cancelled', about: 'the order is cancelled and everything held released or refunded' },
  'parcel.shipped': { version: 1, data: parcelShipped, id: '<parcelId>:shipped', about: 'the warehouse shipped a parcel' },
  'parcel.delivered': { version: 1, data: parcelDelivered, id: '<parcelId>:delivered', about: 'a parcel is delivered (confirmed, or auto-confirmed)' },
  'order.completed': { version: 1, data: orderCompleted, id: '<orderId>:completed', about: 'the after-sales window closed; revenue recognised' },
  'refund.requested': { version: 1, data: refundRequested, id: '<requestId>:requested', about: 'the buyer asked for a refund' },
  'refund.decided': { version: 1, data: refundDecided, id: '<requestId>:decided', about: 'a support agent (or auto-approval) decided a refund request' },
  'refund.paid': { version: 1, data: refundPaid, id: '<requestId>:paid', about: 'the refund of a request reached the buyer' },
  'presale.final_payment_due': { version: 1, data: finalPaymentDue, id: '<orderId>:final-payment-due', about: 'a presale order may now pay its final payment' },
  'group.succeeded': { version: 1, data: groupOutcome, id: '<orderId>:group-succeeded', about: "the member order's group formed; the order ships" },
  'group.failed': { version: 1, data: groupOutcome, id: '<orderId>:group-failed', about: "the member order's group failed; the order is refunded" },
  'stock.low': { version: 1, data: stockLow, id: 'stock-low:<alertId>', about: 'available stock of a SKU fell below its threshold' },
  'reconciliation.difference': {
    version: 1,
    data: reconciliationDifference,
    id: 'reconciliation:<reportId>:<transactionId>:<kind>',
    about: "the provider's records and the journal differ for a transaction",
  },
} as const;

export type EventType = keyof typeof EVENT_TYPES;
export const eventTypes = Object.keys(EVENT_TYPES) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof EVENT_TYPES)[T]['data']>;

/** What a subscriber receives (the JSON body of a delivery), for one type. */
export function envelopeSchema<T extends EventType>(type: T) {
  const spec = EVENT_TYPES[type];
  return z
    .object({
      eventId: z.string().describe(`business identity: ${spec.id}; the same event always has the same id`),
      type: z.literal(type),
      version: z.literal(spec.version),
      orderId: z.string().nullable(),
      customerId: z.string().nullable().describe('the buyer’s member id (an id, never contact data)'),
      occurredAt: z.string().describe('ISO instant from the workflow’s clock'),
      seq: z.number().int().describe('position in the outbox: later events have higher seq'),
      data: spec.data,
    })
    .describe(`${type} v${spec.version}: ${spec.about}`);
}

/** The JSON Schema document of every event (GET /events/schema.json). */
export function eventsJsonSchema(): Record<string, unknown> {
  const variants = Object.fromEntries(eventTypes.map((type) => [type, z.toJSONSchema(envelopeSchema(type), { target: 'draft-2020-12' })]));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: '/events/schema.json',
    title: 'Order engine domain events',
    description:
      'Each delivery is one event: a JSON body matching one of $defs (by type). Deliveries are POSTed with the header ' +
      'X-Event-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the subscription secret>.',
    oneOf: eventTypes.map((type) => ({ $ref: `#/$defs/${encodeURIComponent(type)}` })),
    $defs: Object.fromEntries(eventTypes.map((type) => [type, stripSchemaKeyword(variants[type])])),
  };
}

function stripSchemaKeyword(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}
