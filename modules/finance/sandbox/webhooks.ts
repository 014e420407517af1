import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { SIGNATURE_HEADER, signWebhook } from '../webhook-signature';

export type WebhookEventType = 'payment.succeeded' | 'payment.failed' | 'payment.cancelled' | 'capture.succeeded' | 'refund.succeeded';

export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  created: number;
  data: Record<string, unknown>;
}

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Attempts before giving up on an event (it stays in the outbox, marked gave_up_at). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, capped at 60 s. */
  baseDelayMs?: number;
  /** How long one POST may take. */
  timeoutMs?: number;
}

/** Writes an event to the outbox in the caller's transaction; it is sent after that commits. */
export async function enqueueEvent(
  client: PoolClient,
  type: WebhookEventType,
  data: Record<string, unknown>,
  delayMs: number,
): Promise<{ eventId: string; delayMs: number }> {
  const eventId = `evt_${randomUUID().replace(/-/g, '')}`;
  const event: WebhookEvent = { id: eventId, type, created: Math.floor(Date.now() / 1000), data };
  await client.query(
    `INSERT INTO finance_sandbox.webhook_events (id, type, payload, next_attempt_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision / 1000))`,
    [eventId, type, JSON.stringify(event), delayMs],
  );
  return { eventId, delayMs };
}

/**
 * Sends outbox events to the target, asynchronously and at least once: non-2xx or a network error
 * schedules a retry with exponential backoff. Timers are unref'd so they never hold a process open;
 * events left behind by a stopped process are sent by `deliverPending` (or the poller).
 */
export function createWebhookDispatcher(pool: Pool, target: WebhookTarget | undefined) {
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let closed = false;
  const maxAttempts = target?.maxAttempts ?? 8;
  const baseDelayMs = target?.baseDelayMs ?? 500;

  function schedule(eventId: string, delayMs: number): void {
    if (!target || closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      track(attempt(eventId));
    }, delayMs);
    timer.unref();
    timers.add(timer);
  }

  function track(work: Promise<void>): void {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  /**
   * One delivery attempt. PostgreSQL going away mid-attempt (a restart) is not this process's end:
   * the lease expires and the poll attempts the event again (the receiver takes a repeat once).
   */
  async function attempt(eventId: string): Promise<void> {
    await attemptOnce(eventId).catch(() => undefined);
  }

  async function attemptOnce(eventId: string): Promise<void> {
    if (!target || closed) return;
    // A lease: whoever moves next_attempt_at forward owns this attempt, so two dispatchers do not race.
    const leased = await pool
      .query<{ payload: WebhookEvent; attempts: number }>(
        `UPDATE finance_sandbox.webhook_events
            SET next_attempt_at = now() + interval '30 seconds', attempts = attempts + 1
          WHERE id = $1 AND delivered_at IS NULL AND gave_up_at IS NULL
            AND next_attempt_at <= clock_timestamp() + interval '50 milliseconds'
          RETURNING payload, attempts`,
        [eventId],
      )
      .catch(() => undefined);
    const row = leased?.rows[0];
    if (!row) return;
    const failure = await post(target, row.payload);
    if (!failure) {
      await pool.query('UPDATE finance_sandbox.webhook_events SET delivered_at = now(), last_error = NULL WHERE id = $1', [eventId]);
      return;
    }
    if (row.attempts >= maxAttempts) {
      await pool.query('UPDATE finance_sandbox.webhook_events SET gave_up_at = now(), last_error = $2 WHERE id = $1', [eventId, failure]);
      return;
    }
    const retryInMs = Math.min(baseDelayMs * 2 ** (row.attempts - 1), 60_000);
    await pool.query(
      `UPDATE finance_sandbox.webhook_events
          SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000), last_error = $3
        WHERE id = $1`,
      [eventId, retryInMs, failure],
    );
    schedule(eventId, retryInMs);
  }

  return {
    schedule,
    /** Attempts every event that is due now (after a restart, or events other processes wrote). */
    async deliverPending(): Promise<number> {
      if (!target) return 0;
      const due = await pool.query<{ id: string }>(
        `SELECT id FROM finance_sandbox.webhook_events
          WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= now() ORDER BY created_at LIMIT 100`,
      );
      await Promise.all(due.rows.map((event) => attempt(event.id)));
      return due.rows.length;
    },
    async close(): Promise<void> {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;

/** The error text of a failed delivery, or undefined when the receiver answered 2xx. */
async function post(target: WebhookTarget, event: WebhookEvent): Promise<string | undefined> {
  const rawBody = JSON.stringify(event);
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [SIGNATURE_HEADER]: signWebhook(target.secret, rawBody, Math.floor(Date.now() / 1000)),
      },
      body: rawBody,
      signal: AbortSignal.timeout(target.timeoutMs ?? 5_000),
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
