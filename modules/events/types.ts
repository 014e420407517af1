export interface OutboxEvent {
  eventId: string;            // business identity, e.g. `ord_123:paid`
  type: string;               // e.g. 'order.paid'
  version: number;            // schema version of this type, starts at 1
  orderId: string | null;
  customerId: string | null;  // the buyer, for consumers allowed it (notifications)
  occurredAt: string;         // ISO, from workflow time
  data: Record<string, unknown>;
  seq: number;                // global order of the outbox (bigserial)
}
/** A consumer inside the engine (notifications, NATS). consume() must be idempotent by eventId. */
export interface EventConsumer { readonly name: string; accepts(type: string): boolean; consume(event: OutboxEvent): Promise<void>; }
