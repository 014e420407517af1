import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import { createAuditService, type AuditEntryInput } from '../modules/audit';
import { ID_PATTERN } from '../modules/shared/validation';
import { orderWorkflowId, type OrderView } from '../workflows/order/definitions';
import { principalOf } from './auth';
import { ProblemError } from './problem';
import { sendOrderUpdate } from './temporal';

/**
 * The audit trail of the API: every state change a person or a partner system causes (ship, fail,
 * deliver, decide, campaign create, flash-sale open, admin placement, ops actions) is one row in
 * audit.events with the authenticated actor (never a name from the body), the request id, the
 * workflow run and the state before and after. Refusals by the order's state are audited too.
 */

/** The request's id: the logger's (req.id), else a well-formed X-Request-Id, else a new one. */
export function requestIdOf(req: Request, res: Response): string {
  if (typeof res.locals.requestId === 'string') return res.locals.requestId;
  const fromLogger = (req as { id?: unknown }).id;
  const header = req.get('x-request-id');
  const id =
    typeof fromLogger === 'string' || typeof fromLogger === 'number'
      ? String(fromLogger)
      : header && header.length <= 128 && ID_PATTERN.test(header)
        ? header
        : randomUUID();
  res.locals.requestId = id;
  return id;
}

type Entry = Omit<AuditEntryInput, 'actor' | 'actorRole' | 'requestId'>;

export function createAuditTrail({ pool, temporal }: { pool: Pool; temporal: Client }) {
  const audit = createAuditService({ pool });

  /** One audit row for this request's principal. */
  function record(req: Request, res: Response, entry: Entry): Promise<void> {
    const principal = principalOf(res);
    return audit.record({ ...entry, actor: principal.subject, actorRole: principal.role, requestId: requestIdOf(req, res) });
  }

  /** An update to an order, audited: accepted (with the run that took it) or refused by the order's state. */
  async function orderUpdate<Arg>(
    req: Request,
    res: Response,
    action: string,
    order: OrderView,
    update: UpdateDefinition<OrderView, [Arg]>,
    arg: Arg,
    options: { updateId?: string } = {},
  ): Promise<OrderView> {
    const base = { action, targetType: 'order', targetId: order.orderId, workflowId: orderWorkflowId(order.orderId), details: arg as Record<string, unknown> };
    const before = { status: order.status };
    try {
      const { view, runId } = await sendOrderUpdate(temporal, order, update, arg, options);
      await record(req, res, { ...base, runId, before, after: { status: view.status } });
      return view;
    } catch (error) {
      if (error instanceof ProblemError && error.status === 409) {
        await record(req, res, { ...base, outcome: 'REFUSED', before, after: { refusal: error.message } });
      }
      throw error;
    }
  }

  return { record, orderUpdate };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
