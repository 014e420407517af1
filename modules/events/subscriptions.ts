import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { safeText } from '../shared/validation';
import { eventTypes } from './schema';

/** What an admin registers: where to POST, which event types ('*' for all), the HMAC secret. */
export const createSubscriptionSchema = z.strictObject({
  url: safeText(2_000).pipe(z.url({ protocol: /^https?$/, error: 'an http(s) URL' })),
  eventTypes: z.array(z.enum(['*', ...eventTypes])).min(1).max(eventTypes.length + 1).describe("the event types to receive, or '*' for all"),
  secret: safeText(200).pipe(z.string().min(16, 'at least 16 characters')),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});
export type CreateSubscriptionInput = z.infer<typeof createSubscriptionSchema>;

export interface Subscription {
  id: string;
  kind: 'WEBHOOK' | 'CONSUMER';
  url: string | null;
  consumer: string | null;
  eventTypes: string[];
  maxAttempts: number;
  createdBy: string;
  createdAt: string;
  startSeq: number;
}

export interface DeadLetter {
  eventId: string;
  seq: number;
  type: string;
  orderId: string | null;
  attempts: number;
  lastError: string | null;
  updatedAt: string;
}

interface SubscriptionRow {
  id: string;
  kind: 'WEBHOOK' | 'CONSUMER';
  url: string | null;
  consumer: string | null;
  event_types: string[];
  secret: string | null;
  max_attempts: number;
  created_by: string;
  created_at: Date;
  start_seq: string;
}

/** The secret never leaves the database except in a delivery's signature. */
function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    kind: row.kind,
    url: row.url,
    consumer: row.consumer,
    eventTypes: row.event_types,
    maxAttempts: row.max_attempts,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    startSeq: Number(row.start_seq),
  };
}

export const consumerSubscriptionId = (name: string) => `consumer:${name}`;

/** Subscribers of the outbox (events.subscriptions) and what was dead-lettered for them. */
export function createSubscriptionService({ pool, defaultMaxAttempts }: { pool: Pool; defaultMaxAttempts: number }) {
  return {
    /** A new webhook subscriber; delivery starts with the next event written. */
    async create(input: CreateSubscriptionInput, createdBy: string): Promise<Subscription> {
      const id = `sub_${randomBytes(8).toString('hex')}`;
      const created = await pool.query<SubscriptionRow>(
        `INSERT INTO events.subscriptions (id, kind, url, event_types, secret, max_attempts, created_by, start_seq)
         VALUES ($1, 'WEBHOOK', $2, $3, $4, $5, $6, (SELECT COALESCE(max(seq), 0) FROM events.outbox)) RETURNING *`,
        [id, input.url, input.eventTypes, input.secret, input.maxAttempts ?? defaultMaxAttempts, createdBy],
      );
      return toSubscription(created.rows[0]);
    },

    /** The subscription of an in-process consumer (made once, by the worker that registers it). */
    async ensureConsumer(name: string): Promise<Subscription> {
      await pool.query(
        `INSERT INTO events.subscriptions (id, kind, consumer, event_types, max_attempts, created_by, start_seq)
         VALUES ($1, 'CONSUMER', $2, '{*}', $3, 'worker', (SELECT COALESCE(max(seq), 0) FROM events.outbox))
         ON CONFLICT (id) DO NOTHING`,
        [consumerSubscriptionId(name), name, defaultMaxAttempts],
      );
      return (await this.get(consumerSubscriptionId(name)))!;
    },

    async get(id: string): Promise<Subscription | undefined> {
      const found = await pool.query<SubscriptionRow>('SELECT * FROM events.subscriptions WHERE id = $1', [id]);
      return found.rows[0] && toSubscription(found.rows[0]);
    },

    async list(): Promise<Subscription[]> {
      const found = await pool.query<SubscriptionRow>('SELECT * FROM events.subscriptions ORDER BY created_at, id');
      return found.rows.map(toSubscription);
    },

    async deadLetters(id: string, limit = 500): Promise<DeadLetter[]> {
      const found = await pool.query<{ event_id: string; seq: string; type: string; order_id: string | null; attempts: number; last_error: string | null; updated_at: Date }>(
        `SELECT d.event_id, d.seq, o.type, o.order_id, d.attempts, d.last_error, d.updated_at
           FROM events.deliveries d JOIN events.outbox o ON o.event_id = d.event_id
          WHERE d.subscription_id = $1 AND d.status = 'DEAD' ORDER BY d.seq LIMIT $2`,
        [id, limit],
      );
      return found.rows.map((row) => ({
        eventId: row.event_id,
        seq: Number(row.seq),
        type: row.type,
        orderId: row.order_id,
        attempts: row.attempts,
        lastError: row.last_error,
        updatedAt: row.updated_at.toISOString(),
      }));
    },

    /** The first outbox position of a replay from `from` (a seq, or an ISO instant of occurredAt); undefined: nothing to replay. */
    async replayStart(from: number | Date): Promise<number | undefined> {
      const found = await pool.query<{ seq: string | null }>(
        typeof from === 'number' ? 'SELECT min(seq) AS seq FROM events.outbox WHERE seq >= $1' : 'SELECT min(seq) AS seq FROM events.outbox WHERE occurred_at >= $1',
        [from],
      );
      return found.rows[0].seq === null ? undefined : Number(found.rows[0].seq);
    },
  };
}

export type SubscriptionService = ReturnType<typeof createSubscriptionService>;
