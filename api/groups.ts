import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { Router } from 'express';
import { z } from 'zod';
import { createGroupBuyService } from '../modules/group-buy';
import { createMarketingService, type Campaign } from '../modules/marketing';
import { createOrderProjection } from '../modules/orders/projection';
import { DomainError } from '../modules/shared/errors';
import * as sa from '../workflows/search-attributes';
import { orderWorkflowId } from '../workflows/order/definitions';
import {
  getGroupQuery,
  groupWorkflowId,
  joinGroupUpdate,
  type GroupBuyOrderInput,
  type GroupInput,
  type GroupView,
} from '../workflows/group/definitions';
import type { groupBuyWorkflow } from '../workflows/group/group';
import type { groupBuyOrderWorkflow } from '../workflows/order/types/group-buy';
import { findCampaign } from './admin-campaigns';
import { createPlacementChecks } from './placement-checks';
import { principalOf, requireRole } from './auth';
import { problemResponse, registry } from './openapi';
import { orderIdFor } from './orders';
import { assertChannelAllowed, channelFor, shippingFields } from './shipping';
import { claimIdempotencyKey, IdempotencyKeyHeader, orderSearchAttributes, readPlacement, type CampaignOrderDeps } from './presales';
import { conflict, notFound, ProblemError, unprocessable } from './problem';
import { isError, QUERY_TIMEOUT_MS } from './temporal';
import { campaignParams, idParams, idSchema, pathId } from './validation';

/** Default payment timeout of a member's order (domain-rules.md); GROUP_BUY_PAYMENT_TIMEOUT overrides it. */
const DEFAULT_MEMBER_PAYMENT_MS = 15 * 60_000;

const GroupBuyOrderRequest = registry.register(
  'GroupBuyOrderRequest',
  z
    .object({
      /** Join this group; without it the buyer opens a new group as its leader. */
      groupId: idSchema.optional(),
      quantity: z.number().int().min(1).max(99).default(1),
      couponId: idSchema.optional(),
      pointsToRedeem: z.number().int().min(0).max(10_000_000).optional(),
      ...shippingFields,
    })
    .strict(),
);
const GroupSchema = registry.register('Group', z.object({}).passthrough().openapi({ description: 'GroupView: status, members, seats left, deadline' }));
const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKey: [] }];
registry.registerPath({
  method: 'post',
  path: '/group-buys/{campaignId}/orders',
  summary: 'Open a group (no groupId) or join one, and place the member order at the group price',
  security,
  request: {
    params: campaignParams,
    headers: z.object({ 'Idempotency-Key': IdempotencyKeyHeader }),
    body: { content: { 'application/json': { schema: GroupBuyOrderRequest } } },
  },
  responses: {
    201: { description: 'Placed: PENDING_PAYMENT; `group` names the group joined', content: { 'application/json': { schema: z.object({}).passthrough() } } },
    400: problemResponse('Invalid body or missing Idempotency-Key'),
    404: problemResponse('No such campaign or group'),
    409: problemResponse(
      'Outside the campaign, group full or closed, the buyer is already in the group, or reason LIMIT_REACHED (with perUserLimit): the buyer\'s units across the campaign would exceed the per-user limit',
    ),
    422: problemResponse('Rejected (out of stock...) or the key was used with another body'),
  },
});
registry.registerPath({
  method: 'get',
  path: '/groups/{id}',
  summary: 'A group: members, seats left, deadline and outcome',
  security,
  request: { params: idParams },
  responses: { 200: { description: 'The group', content: { 'application/json': { schema: GroupSchema } } }, 404: problemResponse('No such group') },
});

type GroupBuyCampaign = Extract<Campaign, { kind: 'GROUP_BUY' }>;

export function groupsRouter(deps: CampaignOrderDeps): Router {
  const router = Router();
  const projection = createOrderProjection({ pool: deps.pool });
  const marketing = createMarketingService({ pool: deps.pool });
  const checks = createPlacementChecks({ pool: deps.pool });
  const groupBuy = createGroupBuyService({ pool: deps.pool });

  router.post('/group-buys/:campaignId/orders', requireRole('customer'), async (req, res) => {
    const customerId = principalOf(res).subject;
    const idempotencyKey = IdempotencyKeyHeader.parse(req.get('idempotency-key'));
    const body = GroupBuyOrderRequest.parse(req.body ?? {});
    const campaignId = campaignParams.parse(req.params).campaignId;
    const campaign = await findCampaign(marketing, campaignId);
    if (!campaign || campaign.kind !== 'GROUP_BUY') throw notFound(`group-buy campaign ${campaignId}`);
    // Member, address, freight template and unpaid orders in one statement; refusals in this order.
    const read = await checks.read({ customerId, shipping: body, unpaid: { orderId: orderIdFor(customerId, idempotencyKey), cap: deps.settings.limits?.unpaidOrdersPerCustomer } });
    read.assertMember();
    const channel = channelFor(principalOf(res), body.channel);
    assertChannelAllowed(campaign, channel);
    const shippingAddress = await read.shippingAddress();
    read.assertUnpaidBelowCap();
    const orderId = await claimIdempotencyKey(deps.pool, customerId, idempotencyKey, { campaignId, ...body });

    if (!(await projection.get(orderId))) {
      const at = new Date();
      if (at < campaign.startsAt || at >= campaign.endsAt) {
        throw conflict(`group-buy ${campaignId} runs from ${campaign.startsAt.toISOString()} to ${campaign.endsAt.toISOString()}`, {
          campaignId,
          startsAt: campaign.startsAt.toISOString(),
          endsAt: campaign.endsAt.toISOString(),
        });
      }
      const memberPaymentMs = deps.settings.groupBuyPaymentMs ?? DEFAULT_MEMBER_PAYMENT_MS;
      // The buyer's units across the campaign first (atomic, modules/group-buy): over the limit → 409,
      // no seat and no workflow. The order's placement takes them again under the same key (a no-op)
      // and gives them back when the order ends without being shipped.
      const limitKey = `${orderId}:group-limit`;
      try {
        await groupBuy.takeLimit({ idempotencyKey: limitKey, campaignId, customerId, quantity: body.quantity, perUserLimit: campaign.perUserLimit });
      } catch (error) {
        if (error instanceof DomainError && error.code === 'LIMIT_REACHED') throw limitReached(campaign, error.details);
        if (error instanceof DomainError && error.code === 'ALREADY_COMPENSATED') throw conflict(`order ${orderId} has ended`, { orderId });
        throw error;
      }
      let group: GroupView;
      try {
        group = await takeSeat(deps.temporal, deps.settings.taskQueue, campaign, memberPaymentMs, orderId, customerId, body.groupId);
      } catch (error) {
        // Not seated (full, closed, already in it...), so no order workflow: the units go back.
        await groupBuy.forgetLimit({ idempotencyKey: limitKey });
        throw error;
      }
      const member = group.members.find((candidate) => candidate.orderId === orderId)!;
      const input: GroupBuyOrderInput = {
        orderId,
        customerId,
        lines: [{ skuId: campaign.skuId, quantity: body.quantity }],
        couponId: body.couponId,
        pointsToRedeem: body.pointsToRedeem,
        currency: 'CNY',
        shippingAddress,
        channel,
        placedAt: new Date().toISOString(),
        group: { ...groupTerms(campaign), groupId: group.groupId, leader: member.leader, perUserLimit: campaign.perUserLimit },
      };
      await deps.temporal.workflow
        .start<typeof groupBuyOrderWorkflow>('groupBuyOrderWorkflow', {
          taskQueue: deps.settings.taskQueue,
          workflowId: orderWorkflowId(orderId),
          // An order id is used once: a retried key after the run closed finds that run, never starts a second.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          args: [input, { ...deps.settings.orderTimeouts, paymentMs: memberPaymentMs }],
          typedSearchAttributes: orderSearchAttributes(orderId, customerId, 'GROUP_BUY', campaignId, channel),
          memo: { customerId, campaignId, groupId: group.groupId },
          staticSummary: `Group-buy order ${orderId} for ${customerId} in group ${group.groupId}`,
        })
        .catch((error) => {
          if (!isError(error, 'WorkflowExecutionAlreadyStartedError')) throw error;
        });
    }

    const order = await readPlacement(deps.temporal, projection, orderId);
    res.setHeader('Location', `/orders/${orderId}`);
    if (order.status === 'REJECTED' && order.rejection?.code === 'LIMIT_REACHED') throw limitReached(campaign, { orderId });
    if (order.status === 'REJECTED') {
      throw unprocessable('order-rejected', order.rejection?.message ?? 'the order was rejected', { orderId, reason: order.rejection?.code });
    }
    res.status(201).json(order);
  });

  router.get('/groups/:id', requireRole('customer', 'support', 'finance'), async (req, res) => {
    const principal = principalOf(res);
    const groupId = pathId(req.params);
    try {
      const group = await deps.temporal.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
        deps.temporal.workflow.getHandle(groupWorkflowId(groupId)).query(getGroupQuery),
      );
      // Customers see who else is in a group only by a masked member id.
      const members = group.members.map((member) =>
        principal.role === 'customer' && member.customerId !== principal.subject ? { ...member, customerId: `${member.customerId.slice(0, 4)}***` } : member,
      );
      res.json({ ...group, members });
    } catch (error) {
      if (isError(error, 'WorkflowNotFoundError')) throw notFound(`group ${groupId}`);
      // Groups have no projection yet: a query that does not answer in time is 503, not a hanging read.
      throw new ProblemError(503, 'unavailable', 'Temporarily unavailable', `group ${groupId} cannot be read right now; retry shortly`);
    }
  });

  return router;
}

/** 409: the buyer's units across the campaign would exceed its per-user limit. */
function limitReached(campaign: GroupBuyCampaign, details: Record<string, unknown>): ProblemError {
  return new ProblemError(409, 'group-buy-limit-reached', 'Per-buyer limit reached', `at most ${campaign.perUserLimit} per buyer in group-buy ${campaign.id}`, {
    ...details,
    campaignId: campaign.id,
    reason: 'LIMIT_REACHED',
    perUserLimit: campaign.perUserLimit,
  });
}

function groupTerms(campaign: GroupBuyCampaign) {
  return {
    campaignId: campaign.id,
    skuId: campaign.skuId,
    groupPriceFen: campaign.groupPriceFen,
    groupSize: campaign.groupSize,
    minRealMembers: campaign.virtualSuccess?.minRealMembers,
  };
}

/**
 * A seat for the order: joins `groupId`, or opens a group led by this order (update-with-start of the
 * group workflow; the group id comes from the order id, so a retry finds the same group). A full or
 * closed group opens a new one when the campaign says OPEN_NEW; otherwise refusals are 409.
 */
async function takeSeat(
  temporal: Client,
  taskQueue: string,
  campaign: GroupBuyCampaign,
  memberPaymentMs: number,
  orderId: string,
  customerId: string,
  groupId?: string,
): Promise<GroupView> {
  const join = { orderId, customerId, campaignId: campaign.id };
  if (groupId) {
    try {
      return await temporal.workflow.getHandle(groupWorkflowId(groupId)).executeUpdate(joinGroupUpdate, { args: [join] });
    } catch (error) {
      const refusal = await joinRefusal(temporal, groupId, error);
      if (refusal === 'OTHER_CAMPAIGN' || refusal === 'NOT_FOUND') throw notFound(`group ${groupId} of campaign ${campaign.id}`);
      if (refusal === 'ALREADY_IN_GROUP' || campaign.onFullGroup !== 'OPEN_NEW') {
        const detail =
          refusal === 'ALREADY_IN_GROUP' ? `you are already in group ${groupId}` : refusal === 'GROUP_FULL' ? `group ${groupId} is full` : `group ${groupId} is closed`;
        throw new ProblemError(409, 'group-join-refused', 'Cannot join the group', detail, { groupId, reason: refusal });
      }
      // OPEN_NEW: the payer leads a new group instead.
    }
  }
  const newGroupId = `grp_${orderId.replace(/^ord_/, '')}`;
  const openedAt = new Date();
  const deadline = new Date(Math.min(openedAt.getTime() + campaign.formationWindowMinutes * 60_000, campaign.endsAt.getTime()));
  const input: GroupInput = {
    groupId: newGroupId,
    terms: groupTerms(campaign),
    openedAt: openedAt.toISOString(),
    deadline: deadline.toISOString(),
    // Twice the member payment timeout: a running order has paid or left long before.
    seatHoldMs: 2 * memberPaymentMs,
  };
  const start = new WithStartWorkflowOperation<typeof groupBuyWorkflow>('groupBuyWorkflow', {
    taskQueue,
    workflowId: groupWorkflowId(newGroupId),
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    args: [input],
    typedSearchAttributes: [{ key: sa.CampaignId, value: campaign.id }],
    staticSummary: `Group ${newGroupId} of campaign ${campaign.id} (${campaign.groupSize} members)`,
  });
  try {
    return await temporal.workflow.executeUpdateWithStart(joinGroupUpdate, { args: [join], startWorkflowOperation: start });
  } catch (error) {
    const refusal = await joinRefusal(temporal, newGroupId, error);
    throw conflict(`could not open a group: ${refusal}`, { groupId: newGroupId, reason: refusal });
  }
}

/** Why a join failed: the group's refusal code, GROUP_CLOSED for a finished group, NOT_FOUND for none. */
async function joinRefusal(temporal: Client, groupId: string, error: unknown): Promise<string> {
  if (isError(error, 'WorkflowUpdateFailedError')) {
    const type = ((error as Error).cause as { type?: string } | undefined)?.type;
    if (type) return type;
  }
  try {
    const described = await temporal.workflow.getHandle(groupWorkflowId(groupId)).describe();
    if (described.status.name !== 'RUNNING') return 'GROUP_CLOSED';
  } catch (describeError) {
    if (isError(describeError, 'WorkflowNotFoundError')) return 'NOT_FOUND';
  }
  throw error;
}
