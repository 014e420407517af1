import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { DEFAULT_EVENT_DELIVERY, kickDispatcher } from '../infra/event-dispatchers';
import { envelopeSchema, EVENT_TYPES, eventsJsonSchema, eventTypes } from '../modules/events/schema';
import { EVENT_SIGNATURE_HEADER } from '../modules/events/signature';
import { assertSubscriberUrlAllowed, SubscriberAddressRefusedError } from '../modules/events/subscriber-network';
import { createSubscriptionService, createSubscriptionSchema } from '../modules/events/subscriptions';
import { createAuditTrail } from './audit';
import { authenticate, principalOf, requireRole } from './auth';
import { problemResponse, registry } from './openapi';
import { notFound, ProblemError, unprocessable } from './problem';
import type { ApiSettings } from './settings';
import { idParams, pathId } from './validation';

/**
 * Domain events for systems outside the engine: the published schema, and the admin's subscribers
 * (register, list, dead letters, replay). Every change is audited (audit.events) with the admin.
 * How delivery works: modules/events/README.md.
 */
const security: Record<string, string[]>[] = [{ apiKey: [] }, { bearerAuth: [] }];
// A copy made here, after the OpenAPI extension of zod (the module's schema may have been built before it).
const SubscriptionBody = registry.register('SubscriptionRequest', createSubscriptionSchema.clone());
const Subscription = registry.register(
  'Subscription',
  z.object({
    id: z.string(),
    kind: z.enum(['WEBHOOK', 'CONSUMER']),
    url: z.string().nullable(),
    consumer: z.string().nullable(),
    eventTypes: z.array(z.string()),
    maxAttempts: z.number().int(),
    createdBy: z.string(),
    createdAt: z.string(),
    startSeq: z.number().int(),
  }),
);
const DeadLetter = registry.register(
  'DeadLetter',
  z.object({ eventId: z.string(), seq: z.number().int(), type: z.string(), orderId: z.string().nullable(), attempts: z.number().int(), lastError: z.string().nullable(), updatedAt: z.string() }),
);
const ReplayQuery = z.object({
  from: z
    .string()
    .regex(/^\d{1,15}$|^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/, 'an outbox seq, or an ISO instant')
    .refine((value) => /^\d+$/.test(value) || Number.isFinite(Date.parse(value)), 'not a valid instant')
    .describe('outbox seq (inclusive), or an ISO instant: events that occurred from then on'),
});

registry.registerPath({
  method: 'get',
  path: '/events/schema.json',
  summary: 'JSON Schema of every domain event (what subscribers receive)',
  responses: { 200: { description: 'A JSON Schema (draft 2020-12) document' } },
});
registry.registerPath({
  method: 'post',
  path: '/admin/subscriptions',
  summary: 'Register a subscriber: events of these types are POSTed to the URL, signed with the secret',
  security,
  request: { body: { content: { 'application/json': { schema: SubscriptionBody } } } },
  responses: {
    201: { description: 'Registered; delivery starts with the next event', content: { 'application/json': { schema: Subscription } } },
    400: problemResponse('Invalid subscription'),
    403: problemResponse('Not an admin'),
    422: problemResponse('The URL leads to an address subscribers may not be on (not public, not in EVENTS_SUBSCRIBER_NETWORKS)'),
  },
});
registry.registerPath({
  method: 'get',
  path: '/admin/subscriptions',
  summary: 'Every subscriber (secrets are never shown)',
  security,
  responses: { 200: { description: 'Subscriptions', content: { 'application/json': { schema: z.object({ subscriptions: z.array(Subscription) }) } } }, 403: problemResponse('Not an admin') },
});
registry.registerPath({
  method: 'get',
  path: '/admin/subscriptions/{id}/dead-letters',
  summary: 'Events given up on for this subscriber after its maxAttempts',
  security,
  request: { params: idParams },
  responses: {
    200: { description: 'Dead letters, in outbox order', content: { 'application/json': { schema: z.object({ deadLetters: z.array(DeadLetter) }) } } },
    404: problemResponse('No such subscription'),
  },
});
registry.registerPath({
  method: 'post',
  path: '/admin/subscriptions/{id}/replay',
  summary: 'Deliver again every event from `from` on (dead letters included); subscribers dedupe by eventId',
  security,
  request: { params: idParams, query: ReplayQuery },
  responses: {
    202: { description: 'The dispatcher replays from that seq', content: { 'application/json': { schema: z.object({ fromSeq: z.number().int().nullable() }) } } },
    400: problemResponse('No valid `from`'),
    404: problemResponse('No such subscription'),
  },
});
for (const type of eventTypes) {
  registry.registerWebhook({
    method: 'post',
    path: type,
    summary: `${type} v${EVENT_TYPES[type].version}: ${EVENT_TYPES[type].about}`,
    request: {
      headers: z.object({ [EVENT_SIGNATURE_HEADER]: z.string().describe('t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body"> with the subscription secret') }),
      body: { content: { 'application/json': { schema: envelopeSchema(type) } } },
    },
    responses: { 200: { description: 'Any 2xx acknowledges the event; anything else is retried with backoff, then dead-lettered' } },
  });
}

export function eventsRouter(deps: { pool: Pool; temporal: Client; settings: ApiSettings }): Router {
  const router = Router();
  const delivery = deps.settings.events ?? DEFAULT_EVENT_DELIVERY;
  const subscriptions = createSubscriptionService({ pool: deps.pool, defaultMaxAttempts: delivery.defaultMaxAttempts });
  const trail = createAuditTrail(deps);
  const schema = eventsJsonSchema();
  const admin = [authenticate(deps.settings.auth), requireRole('admin')];
  const kick = (subscriptionId: string, replayFromSeq?: number) =>
    kickDispatcher(deps.temporal, { taskQueue: deps.settings.taskQueue, subscriptionId, timing: delivery.timing, replayFromSeq });

  router.get('/events/schema.json', (_req, res) => {
    res.type('application/schema+json').send(JSON.stringify(schema));
  });

  router.post('/admin/subscriptions', ...admin, async (req, res) => {
    const body = createSubscriptionSchema.parse(req.body);
    if (deps.settings.production && !body.url.startsWith('https://')) {
      throw new ProblemError(400, 'invalid-request', 'Invalid request', 'subscriber URLs must be https in production');
    }
    // Where the URL leads now (every delivery checks again as it connects): public, or a listed network.
    if (delivery.network) {
      try {
        await assertSubscriberUrlAllowed(delivery.network, body.url);
      } catch (error) {
        if (error instanceof SubscriberAddressRefusedError) throw unprocessable('subscriber-address-refused', error.message, { host: error.host, address: error.address });
        if ((error as NodeJS.ErrnoException).code === 'ENOTFOUND') throw new ProblemError(400, 'invalid-request', 'Invalid request', `the subscriber's host does not exist: ${(error as Error).message}`);
        throw error;
      }
    }
    const principal = principalOf(res);
    const created = await subscriptions.create(body, `${principal.role}:${principal.subject}`);
    await trail.record(req, res, { action: 'subscription.create', targetType: 'subscription', targetId: created.id, after: { ...created } });
    await kick(created.id);
    res.setHeader('Location', `/admin/subscriptions/${created.id}`);
    res.status(201).json(created);
  });

  router.get('/admin/subscriptions', ...admin, async (_req, res) => {
    res.json({ subscriptions: await subscriptions.list() });
  });

  router.get('/admin/subscriptions/:id/dead-letters', ...admin, async (req, res) => {
    const id = pathId(req.params);
    if (!(await subscriptions.get(id))) throw notFound(`subscription ${id}`);
    res.json({ deadLetters: await subscriptions.deadLetters(id) });
  });

  router.post('/admin/subscriptions/:id/replay', ...admin, async (req, res) => {
    const id = pathId(req.params);
    const { from } = ReplayQuery.parse(req.query);
    if (!(await subscriptions.get(id))) throw notFound(`subscription ${id}`);
    const fromSeq = await subscriptions.replayStart(/^\d+$/.test(from) ? Number(from) : new Date(from));
    if (fromSeq !== undefined) await kick(id, fromSeq);
    await trail.record(req, res, { action: 'subscription.replay', targetType: 'subscription', targetId: id, details: { from, fromSeq: fromSeq ?? null } });
    res.status(202).json({ fromSeq: fromSeq ?? null });
  });

  return router;
}
