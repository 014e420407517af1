import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Pool } from 'pg';
import { toOutboxEvent, type OutboxRow } from './outbox';
import { EVENT_SIGNATURE_HEADER, signEvent } from './signature';
import { addressAllowed, guardedLookup, hostOf, SubscriberAddressRefusedError, type SubscriberNetworkPolicy } from './subscriber-network';
import type { EventConsumer, OutboxEvent } from './types';

/** How long a subscriber may take to answer one delivery. */
const DELIVERY_TIMEOUT_MS = 10_000;

export interface PendingEvent {
  seq: number;
  eventId: string;
  orderId: string | null;
}

export interface DeliveryAttempt {
  subscriptionId: string;
  eventId: string;
  seq: number;
  attempt: number;
}

export interface DeliveryOutcome {
  delivered: boolean;
  error?: string;
  /** The subscription's attempts before a dead letter (read at each attempt: an admin may change it). */
  maxAttempts: number;
}

interface Target {
  id: string;
  kind: 'WEBHOOK' | 'CONSUMER';
  url: string | null;
  consumer: string | null;
  event_types: string[];
  secret: string | null;
  max_attempts: number;
  start_seq: string;
}

/**
 * What the dispatcher workflow (workflows/events/dispatcher.ts) asks of PostgreSQL and of the
 * subscriber, one step at a time. Every write is keyed by (subscription, event): a retried or
 * repeated step finds what the first did, and a DELIVERED event is never sent again (except by an
 * explicit replay, which marks it REPLAY first).
 */
/**
 * POSTs one event and answers the subscriber's status. Connections go where `network` allows (the
 * address is checked as it is connected to, see subscriber-network.ts); redirects are not followed.
 */
function post(url: URL, headers: Record<string, string>, body: string, network: SubscriberNetworkPolicy | undefined): Promise<number> {
  const host = hostOf(url);
  if (network && isIP(host) && !addressAllowed(network, host)) return Promise.reject(new SubscriberAddressRefusedError(host, host));
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, ...(network ? { lookup: guardedLookup(network) } : {}) },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS} ms`)), DELIVERY_TIMEOUT_MS);
    request.on('close', () => clearTimeout(timer));
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * `network`: where webhook subscribers may be (production: public addresses and
 * EVENTS_SUBSCRIBER_NETWORKS); undefined, anywhere (development and tests).
 */
export function createEventDelivery({ pool, consumers = [], network }: { pool: Pool; consumers?: readonly EventConsumer[]; network?: SubscriberNetworkPolicy }) {
  const byName = new Map(consumers.map((consumer) => [consumer.name, consumer]));

  async function target(subscriptionId: string): Promise<Target | undefined> {
    const found = await pool.query<Target>('SELECT * FROM events.subscriptions WHERE id = $1', [subscriptionId]);
    return found.rows[0];
  }

  function consumerOf(sub: Target): EventConsumer {
    const consumer = byName.get(sub.consumer ?? '');
    // Retryable: another worker (one that registers it) can take the activity.
    if (!consumer) throw new Error(`event consumer ${sub.consumer} is not registered in this worker`);
    return consumer;
  }

  function accepts(sub: Target, type: string): boolean {
    if (sub.kind === 'CONSUMER') return consumerOf(sub).accepts(type);
    return sub.event_types.includes('*') || sub.event_types.includes(type);
  }

  async function send(sub: Target, event: OutboxEvent): Promise<void> {
    if (sub.kind === 'CONSUMER') return consumerOf(sub).consume(event);
    const body = JSON.stringify(event);
    const headers = {
      'content-type': 'application/json',
      [EVENT_SIGNATURE_HEADER]: signEvent(sub.secret!, body),
      'X-Event-Id': event.eventId,
      'X-Event-Type': event.type,
    };
    const status = await post(new URL(sub.url!), headers, body, network);
    if (status < 200 || status >= 300) throw new Error(`HTTP ${status}`);
  }

  return {
    /** Where delivery resumes when the dispatcher starts afresh: after what it last settled, or the subscription's start. */
    async resumePoint(subscriptionId: string): Promise<number | null> {
      const found = await pool.query<{ seq: string | null; exists: boolean }>(
        `SELECT GREATEST(s.start_seq, (SELECT max(seq) FROM events.deliveries d WHERE d.subscription_id = s.id AND d.status IN ('DELIVERED', 'DEAD'))) AS seq, true AS exists
           FROM events.subscriptions s WHERE s.id = $1`,
        [subscriptionId],
      );
      return found.rows[0] ? Number(found.rows[0].seq ?? 0) : null;
    },

    /**
     * The next events after `afterSeq` this subscription takes, in outbox order, without those
     * already settled; `scannedTo` is how far the scan got (the dispatcher's next cursor), even when
     * every event in between was of a type the subscriber does not take.
     */
    async nextEvents(input: { subscriptionId: string; afterSeq: number; limit: number }): Promise<{ events: PendingEvent[]; scannedTo: number; gone?: true }> {
      const sub = await target(input.subscriptionId);
      if (!sub) return { events: [], scannedTo: input.afterSeq, gone: true };
      const found = await pool.query<{ seq: string; event_id: string; type: string; order_id: string | null; status: string | null }>(
        `SELECT o.seq, o.event_id, o.type, o.order_id, d.status
           FROM events.outbox o LEFT JOIN events.deliveries d ON d.subscription_id = $1 AND d.event_id = o.event_id
          WHERE o.seq > $2 ORDER BY o.seq LIMIT $3`,
        [sub.id, input.afterSeq, input.limit],
      );
      const events = found.rows
        .filter((row) => row.status !== 'DELIVERED' && row.status !== 'DEAD' && accepts(sub, row.type))
        .map((row) => ({ seq: Number(row.seq), eventId: row.event_id, orderId: row.order_id }));
      const last = found.rows.at(-1);
      return { events, scannedTo: last ? Number(last.seq) : input.afterSeq };
    },

    /** One attempt; a refusal or an unreachable subscriber is an outcome (the workflow backs off), not an error. */
    async deliver(input: DeliveryAttempt): Promise<DeliveryOutcome> {
      const sub = await target(input.subscriptionId);
      if (!sub) return { delivered: false, error: 'subscription removed', maxAttempts: 1 };
      const settled = await pool.query<{ status: string }>('SELECT status FROM events.deliveries WHERE subscription_id = $1 AND event_id = $2', [sub.id, input.eventId]);
      if (settled.rows[0]?.status === 'DELIVERED') return { delivered: true, maxAttempts: sub.max_attempts };
      const row = await pool.query<OutboxRow>('SELECT * FROM events.outbox WHERE event_id = $1', [input.eventId]);
      const event = toOutboxEvent(row.rows[0]);
      let error: string | undefined;
      try {
        await send(sub, event);
      } catch (failure) {
        if (sub.kind === 'CONSUMER' && !byName.has(sub.consumer ?? '')) throw failure;
        error = ((failure as Error).message || String(failure)).slice(0, 500);
      }
      await pool.query(
        `INSERT INTO events.deliveries (subscription_id, event_id, seq, status, attempts, last_error, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $4 = 'DELIVERED' THEN now() END)
         ON CONFLICT (subscription_id, event_id) DO UPDATE SET
           status = EXCLUDED.status, attempts = GREATEST(events.deliveries.attempts, EXCLUDED.attempts),
           last_error = COALESCE(EXCLUDED.last_error, events.deliveries.last_error), delivered_at = EXCLUDED.delivered_at, updated_at = now()
         WHERE events.deliveries.status <> 'DELIVERED'`,
        [sub.id, event.eventId, event.seq, error ? 'RETRYING' : 'DELIVERED', input.attempt, error ?? null],
      );
      return { delivered: !error, error, maxAttempts: sub.max_attempts };
    },

    /** After the last attempt: the event waits for ops (GET .../dead-letters, POST .../replay). */
    async deadLetter(input: DeliveryAttempt & { error: string }): Promise<void> {
      await pool.query(
        `INSERT INTO events.deliveries (subscription_id, event_id, seq, status, attempts, last_error)
         VALUES ($1, $2, $3, 'DEAD', $4, $5)
         ON CONFLICT (subscription_id, event_id) DO UPDATE SET status = 'DEAD', attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, updated_at = now()
         WHERE events.deliveries.status <> 'DELIVERED'`,
        [input.subscriptionId, input.eventId, input.seq, input.attempt, input.error],
      );
    },

    /** A replay: everything settled from `fromSeq` on is to be delivered again. */
    async reopen(input: { subscriptionId: string; fromSeq: number }): Promise<number> {
      const reopened = await pool.query(`UPDATE events.deliveries SET status = 'REPLAY', updated_at = now() WHERE subscription_id = $1 AND seq >= $2`, [
        input.subscriptionId,
        input.fromSeq,
      ]);
      return reopened.rowCount ?? 0;
    },
  };
}

export type EventDelivery = ReturnType<typeof createEventDelivery>;
