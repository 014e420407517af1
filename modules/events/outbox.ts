import type { Pool, PoolClient } from 'pg';
import { EVENT_TYPES, type EventData, type EventType } from './schema';
import type { OutboxEvent } from './types';

/** An event about to be written: everything but its outbox position. */
export interface NewEvent<T extends EventType = EventType> {
  eventId: string;
  type: T;
  orderId: string | null;
  customerId: string | null;
  occurredAt: string | Date;
  data: EventData<T>;
}

/** Builds a NewEvent, checking `data` against the published schema of its type (a bug fails loudly). */
export function domainEvent<T extends EventType>(event: NewEvent<T>): NewEvent<T> {
  EVENT_TYPES[event.type].data.parse(event.data);
  return event;
}

/** Serialises outbox inserts (see writeEvents): one transaction-level advisory lock. */
export const OUTBOX_LOCK = 0x6f7574626f78; // 'outbox'

/**
 * Writes events into `events.outbox` on the caller's connection, i.e. inside the transaction of the
 * effect they report: the event commits if and only if the effect does. An event id already there
 * is left alone (a retried activity, a replayed workflow), so nothing is ever written twice.
 *
 * Call it last in the transaction. Inserts take a transaction-level advisory lock, so outbox rows
 * commit in `seq` order: a dispatcher that has read up to seq N can never later find a row below N
 * committed behind its back (sequence values are otherwise taken before commit, out of order). The
 * lock is held only from this insert to COMMIT, and only by transactions that have a new event.
 */
export async function writeEvents(client: PoolClient, events: NewEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const known = await client.query<{ event_id: string }>('SELECT event_id FROM events.outbox WHERE event_id = ANY($1)', [events.map((event) => event.eventId)]);
  const seen = new Set(known.rows.map((row) => row.event_id));
  events = events.filter((event) => !seen.has(event.eventId));
  if (events.length === 0) return 0;
  await client.query('SELECT pg_advisory_xact_lock($1)', [OUTBOX_LOCK]);
  const written = await client.query(
    `INSERT INTO events.outbox (event_id, type, version, order_id, customer_id, occurred_at, data)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[])
     ORDER BY 6
     ON CONFLICT (event_id) DO NOTHING`,
    outboxColumns(events),
  );
  return written.rowCount ?? 0;
}

/** The outbox columns of `events` as parallel arrays (the parameters of an `unnest(...)` insert). */
export function outboxColumns(events: NewEvent[]): [string[], string[], number[], (string | null)[], (string | null)[], string[], string[]] {
  return [
    events.map((event) => event.eventId),
    events.map((event) => event.type),
    events.map((event) => EVENT_TYPES[event.type].version),
    events.map((event) => event.orderId),
    events.map((event) => event.customerId),
    events.map((event) => new Date(event.occurredAt).toISOString()),
    events.map((event) => JSON.stringify(event.data)),
  ];
}

export interface OutboxRow {
  seq: string;
  event_id: string;
  type: string;
  version: number;
  order_id: string | null;
  customer_id: string | null;
  occurred_at: Date;
  data: Record<string, unknown>;
}

export function toOutboxEvent(row: OutboxRow): OutboxEvent {
  return {
    eventId: row.event_id,
    type: row.type,
    version: row.version,
    orderId: row.order_id,
    customerId: row.customer_id,
    occurredAt: row.occurred_at.toISOString(),
    data: row.data,
    seq: Number(row.seq),
  };
}

/** Events of one order (or all), in outbox order: for ops, tests and the chaos invariants. */
export async function listEvents(pool: Pool, filter: { orderId?: string; afterSeq?: number; limit?: number } = {}): Promise<OutboxEvent[]> {
  const found = await pool.query<OutboxRow>(
    `SELECT * FROM events.outbox WHERE ($1::text IS NULL OR order_id = $1) AND seq > $2 ORDER BY seq LIMIT $3`,
    [filter.orderId ?? null, filter.afterSeq ?? 0, filter.limit ?? 1_000],
  );
  return found.rows.map(toOutboxEvent);
}
