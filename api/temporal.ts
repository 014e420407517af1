import { createHash } from 'node:crypto';
import { WorkflowUpdateStage, type Client, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { OrderProjection } from '../modules/orders/projection';
import { getOrderQuery, orderWorkflowId, type OrderView } from '../workflows/order/definitions';
import { conflict, notFound, notNowRetryShortly, ProblemError } from './problem';
import { waitsOutRefusal } from '../workflows/order/policy';
import { isWorkflowTaskRetrying } from '../infra/temporal-retry';

export function orderHandle(temporal: Client, orderId: string): WorkflowHandle {
  return temporal.workflow.getHandle(orderWorkflowId(orderId));
}

/** Statuses after which an order's workflow has ended: its projection is final. */
const FINAL_ORDER_STATUSES = new Set<string>(['COMPLETED', 'REJECTED']);
/** How long a read waits for a workflow query before the projection answers. */
export const QUERY_TIMEOUT_MS = 3_000;

/**
 * A workflow's state for a read: a closed one from its PostgreSQL projection (a query would replay
 * its whole history), a running one from its query (always fresh) within QUERY_TIMEOUT_MS, else
 * (timeout, query failure, workflow gone) from the projection. No projection and no answer: 503.
 */
export async function readFresh<View>(
  temporal: Client,
  what: string,
  stored: View | undefined,
  isFinal: (view: View) => boolean,
  query: () => Promise<View>,
): Promise<View> {
  if (stored && isFinal(stored)) return stored;
  try {
    return await temporal.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, query);
  } catch (error) {
    if (stored) return stored;
    if (isError(error, 'WorkflowNotFoundError')) throw notFound(what);
    throw new ProblemError(503, 'unavailable', 'Temporarily unavailable', `${what} cannot be read right now; retry shortly`);
  }
}

/**
 * The order as it is now, from its PostgreSQL projection: the workflow writes it at every phase change,
 * and the API writes the view an accepted update answered before it answers (sendOrderUpdate), so a
 * caller reads its own actions. Only an order without a projection row yet (its first write still in
 * flight) is asked by a workflow query (see readFresh).
 */
export async function readOrder(temporal: Client, projection: OrderProjection, orderId: string): Promise<OrderView> {
  const stored = await projection.get(orderId);
  if (stored) return stored;
  return readFresh(temporal, `order ${orderId}`, stored, (view: OrderView) => FINAL_ORDER_STATUSES.has(view.status), () =>
    orderHandle(temporal, orderId).query(getOrderQuery),
  );
}

/** The projection each API client's accepted updates are written to (set by createApp; none: not written). */
const projections = new WeakMap<Client, OrderProjection>();

/** Accepted order updates sent through this client are written to the projection before they answer. */
export function projectUpdatesInto(temporal: Client, projection: OrderProjection): void {
  projections.set(temporal, projection);
}

/**
 * Sends an update to an order. The workflow's validator refuses actions its state does not allow
 * (cancel after shipment, ship before payment): that becomes 409 with the workflow's reason, and so
 * does any action on an order whose workflow has finished.
 */
export async function runOrderUpdate<Arg>(
  temporal: Client,
  order: OrderView,
  update: UpdateDefinition<OrderView, [Arg]>,
  arg: Arg,
): Promise<OrderView> {
  return (await sendOrderUpdate(temporal, order, update, arg)).view;
}

/** `runOrderUpdate`, also telling which run of the order's workflow took the update (for the audit trail). */
export async function sendOrderUpdate<Arg>(
  temporal: Client,
  order: OrderView,
  update: UpdateDefinition<OrderView, [Arg]>,
  arg: Arg,
  options: { updateId?: string } = {},
): Promise<{ view: OrderView; runId?: string }> {
  try {
    // The refusal of a validator arrives as the update's outcome, from result(), not from startUpdate:
    // both are inside what is asked again.
    const { view, sent } = await retryTransientRefusals(order, async () => {
      const started = await orderHandle(temporal, order.orderId).startUpdate(update, { args: [arg], waitForStage: WorkflowUpdateStage.ACCEPTED, updateId: options.updateId });
      return { view: await started.result(), sent: started };
    });
    // Version-guarded upsert: never older than what the workflow already wrote; makes the next read current.
    await projections.get(temporal)?.saveUnlessCurrent(view);
    return { view, runId: sent.workflowRunId };
  } catch (error) {
    if (isError(error, 'WorkflowUpdateFailedError')) {
      throw conflict(((error as Error).cause as Error | undefined)?.message ?? (error as Error).message, { orderId: order.orderId, orderStatus: order.status });
    }
    if (isError(error, 'WorkflowNotFoundError')) {
      throw conflict(`order ${order.orderId} is ${order.status}; it accepts no more actions`, { orderId: order.orderId, orderStatus: order.status });
    }
    throw error;
  }
}

/**
 * The update id of an action its caller may send again (a warehouse's or carrier's system retrying
 * after a timeout): Temporal takes an update once per id in a run and answers a repeat with the first
 * outcome, so a retried shipment answers 200 with the order it shipped instead of 409
 * ALREADY_REPORTED, and a different one (another tracking number) is still refused. Built from what
 * the action is (its kind and identity: parcel, carrier, tracking number), hashed to a short id.
 */
export function repeatableUpdateId(kind: string, ...identity: string[]): string {
  return `${kind}:${createHash('sha256').update(identity.join('\u0000')).digest('base64url').slice(0, 32)}`;
}

/**
 * Sends an update, asking again for a short while (TRANSIENT_REFUSAL_WAIT_MS) when the workflow
 * refuses it as "a moment" (being placed; a received payment being recorded and captured) although
 * the view the caller acted on is already past that: the projection ran ahead of a retried workflow
 * task (policy.ts, waitsOutRefusal). A refused update changes nothing, so asking again is safe.
 * Still refused so when the wait is over: 503 with Retry-After (the refusal's reason), not 409.
 * Any other refusal, or one the caller's view already showed, is thrown at once (409 upstream).
 */
export const TRANSIENT_REFUSAL_WAIT_MS = 15_000;

export async function retryTransientRefusals<T>(seen: Pick<OrderView, 'phase'>, send: () => Promise<T>, waitMs = TRANSIENT_REFUSAL_WAIT_MS): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let pauseMs = 100; ; pauseMs = Math.min(1_000, pauseMs * 2)) {
    try {
      return await send();
    } catch (error) {
      const code = isError(error, 'WorkflowUpdateFailedError') ? ((error as Error).cause as { type?: string } | undefined)?.type : undefined;
      const waitedOut = code !== undefined && waitsOutRefusal(seen.phase, code);
      const transient = waitedOut || isWorkflowTaskRetrying(error);
      if (!transient) throw error;
      if (Date.now() + pauseMs > deadline) {
        // Still "a moment" after the wait (a replacement worker still replaying the payment): the
        // caller is told to come back, not that the order refuses (409 would read as final).
        if (waitedOut) {
          const reason = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
          throw notNowRetryShortly(`${reason}; the engine is still catching up on this order: retry shortly`, 5, { reason: code });
        }
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/**
 * Matches SDK errors by name: `instanceof` fails when two copies of an SDK package are loaded (the
 * SDK's own packages nest their dependencies, and test runners load modules per file).
 */
export function isError(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;
}
