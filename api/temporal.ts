import { WorkflowUpdateStage, type Client, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { OrderProjection } from '../modules/orders/projection';
import { getOrderQuery, orderWorkflowId, type OrderView } from '../workflows/order/definitions';
import { conflict, notFound } from './problem';

export function orderHandle(temporal: Client, orderId: string): WorkflowHandle {
  return temporal.workflow.getHandle(orderWorkflowId(orderId));
}

/**
 * The order as it is now: asked from its workflow (always fresh); once the workflow is gone (closed
 * and past retention) its last projection in PostgreSQL answers.
 */
export async function readOrder(temporal: Client, projection: OrderProjection, orderId: string): Promise<OrderView> {
  try {
    return await orderHandle(temporal, orderId).query(getOrderQuery);
  } catch (error) {
    if (!isError(error, 'WorkflowNotFoundError')) throw error;
  }
  const stored = await projection.get(orderId);
  if (!stored) throw notFound(`order ${orderId}`);
  return stored;
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
): Promise<{ view: OrderView; runId?: string }> {
  try {
    const sent = await orderHandle(temporal, order.orderId).startUpdate(update, { args: [arg], waitForStage: WorkflowUpdateStage.ACCEPTED });
    return { view: await sent.result(), runId: sent.workflowRunId };
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
 * Matches SDK errors by name: `instanceof` fails when two copies of an SDK package are loaded (the
 * SDK's own packages nest their dependencies, and test runners load modules per file).
 */
export function isError(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;
}
