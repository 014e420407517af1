import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { Router, type Request } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../modules/finance';
import { orderWorkflowId, paymentFailedSignal, paymentSucceededSignal } from '../workflows/order/definitions';
import type { latePaymentRefundWorkflow } from '../workflows/order/late-payment';
import { problemResponse, registry } from './openapi';
import { ProblemError } from './problem';
import { isError } from './temporal';

/** Deliveries older than this are refused even with a valid signature (replay protection). */
const SIGNATURE_TOLERANCE_SECONDS = 300;

const WebhookEvent = registry.register(
  'PaymentWebhookEvent',
  z.object({
    id: z.string().min(1).max(200),
    type: z.string().min(1).max(100),
    created: z.number().int(),
    data: z
      .object({
        orderId: z.string().min(1),
        intentId: z.string().min(1),
        amountFen: z.number().int().nonnegative(),
        currency: z.string().default('CNY'),
        failureReason: z.string().optional(),
      })
      .passthrough(),
  }),
);

registry.registerPath({
  method: 'post',
  path: '/payments/webhook',
  summary: "The payment provider's callback (HMAC-signed); a replayed event has no second effect",
  request: {
    headers: z.object({ [SIGNATURE_HEADER]: z.string().describe('t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">') }),
    body: { content: { 'application/json': { schema: WebhookEvent } } },
  },
  responses: {
    200: { description: 'Handled (or already handled)', content: { 'application/json': { schema: z.object({ received: z.boolean(), duplicate: z.boolean() }) } } },
    400: problemResponse('Not an event'),
    401: problemResponse('Missing or invalid signature'),
  },
});

export interface PaymentsDeps {
  pool: Pool;
  temporal: Client;
  webhookSecret: string;
  taskQueue: string;
}

/** The raw request body, kept by express.json's `verify` hook: the signature covers exact bytes. */
export type RequestWithRawBody = Request & { rawBody?: Buffer };

export function paymentsRouter(deps: PaymentsDeps): Router {
  const router = Router();

  router.post('/payments/webhook', async (req: RequestWithRawBody, res) => {
    const rawBody = req.rawBody ?? Buffer.alloc(0);
    if (!verifyWebhookSignature(deps.webhookSecret, req.get(SIGNATURE_HEADER), rawBody, SIGNATURE_TOLERANCE_SECONDS)) {
      throw new ProblemError(401, 'invalid-signature', 'Invalid signature', `missing, wrong or stale ${SIGNATURE_HEADER}`);
    }
    const event = WebhookEvent.parse(req.body);

    const seen = await deps.pool.query('SELECT 1 FROM orders.payment_events WHERE event_id = $1', [event.id]);
    if (seen.rowCount) {
      res.json({ received: true, duplicate: true });
      return;
    }
    // Effect first, record second: a crash in between makes the provider deliver again, and the
    // workflow ignores an event id it has seen. Recording first could lose a payment.
    await deliver(deps, event);
    await deps.pool.query(
      `INSERT INTO orders.payment_events (event_id, order_id, kind, payload) VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING`,
      [event.id, event.data.orderId, event.type, JSON.stringify(event)],
    );
    res.json({ received: true, duplicate: false });
  });

  return router;
}

async function deliver(deps: PaymentsDeps, event: z.infer<typeof WebhookEvent>): Promise<void> {
  const { orderId, intentId, amountFen, currency } = event.data;
  const order = deps.temporal.workflow.getHandle(orderWorkflowId(orderId));
  const paidAt = new Date(event.created * 1000).toISOString();
  try {
    if (event.type === 'payment.succeeded') {
      await order.signal(paymentSucceededSignal, { eventId: event.id, intentId, amountFen, paidAt });
    } else if (event.type === 'payment.failed') {
      await order.signal(paymentFailedSignal, { eventId: event.id, intentId, reason: event.data.failureReason ?? 'declined' });
    }
    // capture / refund / cancel events confirm what the engine itself asked for: recorded only.
  } catch (error) {
    if (!isError(error, 'WorkflowNotFoundError')) throw error;
    // The order's workflow has finished (cancelled, say): money that arrives now goes back.
    if (event.type === 'payment.succeeded') {
      await deps.temporal.workflow
        .start<typeof latePaymentRefundWorkflow>('latePaymentRefundWorkflow', {
          taskQueue: deps.taskQueue,
          workflowId: `late-payment-${event.id}`,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          args: [{ eventId: event.id, orderId, intentId, amountFen, currency }],
          staticSummary: `Refund a payment that reached finished order ${orderId}`,
        })
        .catch((startError) => {
          if (!isError(startError, 'WorkflowExecutionAlreadyStartedError')) throw startError;
        });
    }
  }
}
