import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { systemClock, withTransaction, type Clock } from '../../shared/db';
import { DomainError } from '../../shared/errors';
import {
  ProviderUnavailableError,
  type CancelIntentRequest,
  type CaptureRequest,
  type CaptureResult,
  type CreateIntentRequest,
  type IntentResult,
  type IntentStatus,
  type PaymentProvider,
  type ProviderTransaction,
  type RefundRequest,
  type RefundResult,
} from '../provider';
import { addBehaviour, clearBehaviours, startCall, startIntentCall, type BehaviourInput, type CallScript, type SandboxOperation } from './behaviours';
import { createWebhookDispatcher, enqueueEvent, type WebhookEventType, type WebhookTarget } from './webhooks';

export interface SandboxOptions {
  pool: Pool;
  /** The sandbox's own clock for its records (a real provider's clock is not ours either). */
  clock?: Clock;
  /** Where events are POSTed; without one they wait in the outbox for a sandbox that has one. */
  webhook?: WebhookTarget;
  /** With a webhook target: also sweep the outbox this often (events written by other processes). */
  pollIntervalMs?: number;
}

export interface SandboxIntent {
  intentId: string;
  orderId: string;
  amountFen: number;
  currency: string;
  status: IntentStatus;
  capturedFen: number;
  refundedFen: number;
  lastError: string | null;
}

export interface PayOutcome {
  intentId: string;
  status: IntentStatus;
  outcome: 'succeeded' | 'failed' | 'already';
  eventId?: string;
}

interface IntentRow {
  id: string;
  idempotency_key: string;
  order_id: string;
  currency: string;
  amount_fen: string;
  status: IntentStatus;
  captured_fen: string;
  refunded_fen: string;
  last_error: string | null;
}

interface TransactionRow {
  id: string;
  intent_id: string;
  kind: 'capture' | 'refund';
  amount_fen: string;
}

/**
 * An in-process payment provider with books of its own (schema finance_sandbox). Idempotent by key
 * like a real provider; tells about payments and refunds only by signed webhooks, sent after commit.
 */
export function createSandboxProvider(options: SandboxOptions) {
  const { pool } = options;
  const clock = options.clock ?? systemClock;
  const dispatcher = createWebhookDispatcher(pool, options.webhook);
  const poller =
    options.webhook && options.pollIntervalMs ? setInterval(() => void dispatcher.deliverPending().catch(() => undefined), options.pollIntervalMs) : undefined;
  poller?.unref();

  /** A provider API call begins: its script, and the scripted error before its effect, if any. */
  async function beginCall(operation: SandboxOperation, orderId: string | null): Promise<CallScript> {
    const { script, failsBefore } = await startCall(pool, { operation, orderId });
    if (failsBefore) throw new ProviderUnavailableError(`sandbox: scripted ${operation} failure (before the effect)`);
    return script;
  }

  /** The scripted error after the call's effect committed (its response lost on the way back). */
  async function scriptedErrorAfter(script: CallScript, operation: SandboxOperation, orderId: string | null): Promise<void> {
    const failure = await script.consume(pool, 'error', operation, orderId, 'after');
    if (failure) throw new ProviderUnavailableError(`sandbox: scripted ${operation} failure (after the effect)`);
  }

  /** Runs `work` in a transaction, then schedules the webhook events it wrote. */
  async function withEvents<T>(script: CallScript, work: (client: PoolClient, emit: Emit) => Promise<T>): Promise<T> {
    const events: { eventId: string; delayMs: number }[] = [];
    const result = await withTransaction(pool, (client) =>
      work(client, async (type, orderId, data) => {
        const delay = await script.consume(client, 'delay', 'webhook', orderId);
        const event = await enqueueEvent(client, type, { orderId, ...data }, delay?.delayMs ?? 0);
        events.push(event);
        return event.eventId;
      }),
    );
    for (const event of events) dispatcher.schedule(event.eventId, event.delayMs);
    return result;
  }

  /** A call on an existing intent begins: its order and script, or the scripted error before its effect. */
  async function beginIntentCall(operation: SandboxOperation, intentId: string): Promise<{ orderId: string; script: CallScript }> {
    const started = await startIntentCall(pool, operation, intentId);
    if (!started) throw intentNotFound(intentId);
    if (started.failsBefore) throw new ProviderUnavailableError(`sandbox: scripted ${operation} failure (before the effect)`);
    return { orderId: started.orderId, script: started.script };
  }

  const provider: PaymentProvider = {
    async createPaymentIntent(request: CreateIntentRequest): Promise<IntentResult> {
      const script = await beginCall('createIntent', request.orderId);
      const now = clock();
      // The intent made now, or the one made under this key before (the no-op update returns it), in one statement.
      const intent = (
        await pool.query<IntentRow>(
          `INSERT INTO finance_sandbox.intents (id, idempotency_key, order_id, currency, amount_fen, status, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 'requires_payment', $6, $6)
           ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key RETURNING *`,
          [newId('pi'), request.idempotencyKey, request.orderId, request.currency, request.amountFen, now],
        )
      ).rows[0];
      if (intent.order_id !== request.orderId || Number(intent.amount_fen) !== request.amountFen || intent.currency !== request.currency) {
        throw keyReused(request.idempotencyKey);
      }
      await scriptedErrorAfter(script, 'createIntent', request.orderId);
      return { intentId: intent.id, status: intent.status };
    },

    async cancelIntent(request: CancelIntentRequest): Promise<IntentResult> {
      const { orderId, script } = await beginIntentCall('cancel', request.intentId);
      const result = await withEvents(script, async (client, emit) => {
        const intent = await lockIntent(client, request.intentId);
        if (intent.status === 'cancelled') return { intentId: intent.id, status: intent.status };
        if (intent.status === 'captured') {
          throw new DomainError('PROVIDER_INTENT_ALREADY_CAPTURED', `intent ${intent.id} was captured: refund it instead`, { intentId: intent.id });
        }
        await client.query(`UPDATE finance_sandbox.intents SET status = 'cancelled', updated_at = $2 WHERE id = $1`, [intent.id, clock()]);
        await emit('payment.cancelled', intent.order_id, { intentId: intent.id, amountFen: Number(intent.amount_fen), currency: intent.currency });
        return { intentId: intent.id, status: 'cancelled' as const };
      });
      await scriptedErrorAfter(script, 'cancel', orderId);
      return result;
    },

    async capture(request: CaptureRequest): Promise<CaptureResult> {
      const { orderId, script } = await beginIntentCall('capture', request.intentId);
      const result = await withEvents(script, async (client, emit) => {
        const intent = await lockIntent(client, request.intentId);
        const earlier = await transactionByKey(client, request.idempotencyKey);
        if (earlier) {
          if (earlier.kind !== 'capture' || earlier.intent_id !== intent.id || Number(earlier.amount_fen) !== request.amountFen) {
            throw keyReused(request.idempotencyKey);
          }
          return captureResult(earlier);
        }
        if (intent.status !== 'authorized') {
          throw new DomainError('PROVIDER_INTENT_NOT_CAPTURABLE', `intent ${intent.id} is ${intent.status}`, { intentId: intent.id, status: intent.status });
        }
        if (request.amountFen > Number(intent.amount_fen)) {
          throw new DomainError('PROVIDER_CAPTURE_EXCEEDS_AUTHORIZED', `cannot capture ${request.amountFen} of ${intent.amount_fen}`, { intentId: intent.id });
        }
        const now = clock();
        const captured = await insertTransaction(client, request.idempotencyKey, intent.id, 'capture', request.amountFen, now, `status = 'captured', captured_fen = $2, updated_at = $3`);
        await emit('capture.succeeded', intent.order_id, { intentId: intent.id, captureId: captured.id, amountFen: request.amountFen, currency: intent.currency });
        return captureResult(captured);
      });
      await scriptedErrorAfter(script, 'capture', orderId);
      return result;
    },

    async refund(request: RefundRequest): Promise<RefundResult> {
      const { orderId, script } = await beginIntentCall('refund', request.intentId);
      const result = await withEvents(script, async (client, emit): Promise<RefundResult> => {
        const intent = await lockIntent(client, request.intentId);
        const earlier = await transactionByKey(client, request.idempotencyKey);
        if (earlier) {
          if (earlier.kind !== 'refund' || earlier.intent_id !== intent.id || Number(earlier.amount_fen) !== request.amountFen) {
            throw keyReused(request.idempotencyKey);
          }
          return { refundId: earlier.id, status: 'succeeded' };
        }
        const refundable = Number(intent.captured_fen) - Number(intent.refunded_fen);
        if (intent.status !== 'captured' || request.amountFen > refundable) {
          return { refundId: null, status: 'failed', failureReason: `refundable ${refundable} of intent in status ${intent.status}` };
        }
        if (await script.consume(client, 'decline', 'refund', intent.order_id)) {
          return { refundId: null, status: 'failed', failureReason: 'refund_declined' };
        }
        const now = clock();
        const refund = await insertTransaction(client, request.idempotencyKey, intent.id, 'refund', request.amountFen, now, 'refunded_fen = refunded_fen + $2, updated_at = $3');
        await emit('refund.succeeded', intent.order_id, { intentId: intent.id, refundId: refund.id, amountFen: request.amountFen, currency: intent.currency });
        return { refundId: refund.id, status: 'succeeded' };
      });
      await scriptedErrorAfter(script, 'refund', orderId);
      return result;
    },

    async listTransactions(range: { from: Date; to: Date }): Promise<ProviderTransaction[]> {
      await beginCall('listTransactions', null);
      const rows = await pool.query<TransactionRow & { order_id: string; currency: string; created_at: Date }>(
        `SELECT t.id, t.intent_id, t.kind, t.amount_fen, t.created_at, i.order_id, i.currency
           FROM finance_sandbox.transactions t JOIN finance_sandbox.intents i ON i.id = t.intent_id
          WHERE t.created_at >= $1 AND t.created_at < $2 ORDER BY t.created_at, t.id`,
        [range.from, range.to],
      );
      return rows.rows.map((row) => ({
        transactionId: row.id,
        kind: row.kind,
        intentId: row.intent_id,
        orderId: row.order_id,
        amountFen: Number(row.amount_fen),
        currency: row.currency,
        occurredAt: row.created_at.toISOString(),
      }));
    },
  };

  return {
    ...provider,

    /** The buyer pays (authorises) the intent; the result reaches the engine by webhook only. */
    async pay(intentId: string): Promise<PayOutcome> {
      const { script } = await startCall(pool);
      return withEvents(script, async (client, emit): Promise<PayOutcome> => {
        const intent = await lockIntent(client, intentId);
        const data = { intentId: intent.id, amountFen: Number(intent.amount_fen), currency: intent.currency };
        if (intent.status === 'authorized' || intent.status === 'captured') return { intentId, status: intent.status, outcome: 'already' };
        let failure: string | undefined;
        if (intent.status === 'cancelled') failure = 'intent_cancelled';
        else if (await script.consume(client, 'decline', 'pay', intent.order_id)) failure = 'card_declined';
        if (failure) {
          await client.query('UPDATE finance_sandbox.intents SET last_error = $2, updated_at = $3 WHERE id = $1', [intentId, failure, clock()]);
          const eventId = await emit('payment.failed', intent.order_id, { ...data, failureReason: failure });
          return { intentId, status: intent.status, outcome: 'failed', eventId };
        }
        await client.query(`UPDATE finance_sandbox.intents SET status = 'authorized', last_error = NULL, updated_at = $2 WHERE id = $1`, [intentId, clock()]);
        const eventId = await emit('payment.succeeded', intent.order_id, data);
        return { intentId, status: 'authorized', outcome: 'succeeded', eventId };
      });
    },

    async getIntent(intentId: string): Promise<SandboxIntent> {
      const found = await pool.query<IntentRow>('SELECT * FROM finance_sandbox.intents WHERE id = $1', [intentId]);
      if (!found.rows[0]) throw intentNotFound(intentId);
      return toIntent(found.rows[0]);
    },

    addBehaviour: (behaviour: BehaviourInput) => addBehaviour(pool, behaviour),
    clearBehaviours: () => clearBehaviours(pool),
    deliverPending: () => dispatcher.deliverPending(),

    /** Stops timers and waits for deliveries in flight (call before closing the pool). */
    async close(): Promise<void> {
      if (poller) clearInterval(poller);
      await dispatcher.close();
    },
  };
}

export type SandboxProvider = ReturnType<typeof createSandboxProvider>;

/** Writes a webhook event in the current transaction; returns its id. */
type Emit = (type: WebhookEventType, orderId: string, data: Record<string, unknown>) => Promise<string>;

async function lockIntent(client: PoolClient, intentId: string): Promise<IntentRow> {
  const found = await client.query<IntentRow>('SELECT * FROM finance_sandbox.intents WHERE id = $1 FOR UPDATE', [intentId]);
  if (!found.rows[0]) throw intentNotFound(intentId);
  return found.rows[0];
}

async function transactionByKey(client: PoolClient, key: string): Promise<TransactionRow | undefined> {
  const found = await client.query<TransactionRow>('SELECT id, intent_id, kind, amount_fen FROM finance_sandbox.transactions WHERE idempotency_key = $1', [key]);
  return found.rows[0];
}

/**
 * Records a capture or refund and moves the intent's figures (`intentUpdate`, SET clauses over $1 the
 * intent, $2 the amount, $3 the time), in one statement.
 */
async function insertTransaction(
  client: PoolClient,
  key: string,
  intentId: string,
  kind: 'capture' | 'refund',
  amountFen: number,
  at: Date,
  intentUpdate: string,
): Promise<TransactionRow> {
  const id = newId(kind === 'capture' ? 'ch' : 're');
  await client.query(
    `WITH recorded AS (
       INSERT INTO finance_sandbox.transactions (id, idempotency_key, intent_id, kind, amount_fen, created_at) VALUES ($4, $5, $1, $6, $2, $3))
     UPDATE finance_sandbox.intents SET ${intentUpdate} WHERE id = $1`,
    [intentId, amountFen, at, id, key, kind],
  );
  return { id, intent_id: intentId, kind, amount_fen: String(amountFen) };
}

function captureResult(row: TransactionRow): CaptureResult {
  return { captureId: row.id, intentId: row.intent_id, amountFen: Number(row.amount_fen), status: 'succeeded' };
}

function toIntent(row: IntentRow): SandboxIntent {
  return {
    intentId: row.id,
    orderId: row.order_id,
    amountFen: Number(row.amount_fen),
    currency: row.currency,
    status: row.status,
    capturedFen: Number(row.captured_fen),
    refundedFen: Number(row.refunded_fen),
    lastError: row.last_error,
  };
}

function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

function intentNotFound(intentId: string): DomainError {
  return new DomainError('PROVIDER_INTENT_NOT_FOUND', `no intent ${intentId}`, { intentId });
}

function keyReused(key: string): DomainError {
  return new DomainError('PROVIDER_IDEMPOTENCY_KEY_REUSED', `idempotency key ${key} was used for a different request`, { key });
}
