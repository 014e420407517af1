import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import { orderWorkflowId } from '../order/definitions';
import {
  getGroupQuery,
  groupOutcomeSignal,
  joinGroupUpdate,
  memberLeftSignal,
  memberPaidSignal,
  type GroupInput,
  type GroupMember,
  type GroupView,
  type JoinRequest,
} from './definitions';

/**
 * A group-buy group (拼团), domain-rules.md:
 *
 *   FORMING: members join (joinGroup update: a seat each, idempotent by order id), pay (memberPaid)
 *            or leave before paying (memberLeft: payment timeout, rejection; the seat frees up)
 *   → SUCCEEDED as soon as groupSize members paid: every member's order proceeds to shipment
 *   → at the deadline: SUCCEEDED virtually when the campaign allows it and at least minRealMembers
 *     paid (members who had not paid are let go), else FAILED: every member's order is cancelled and
 *     refunded in full by its own saga (stock released).
 *
 * Joining a full or decided group, or a second seat for the same buyer, is refused (the API answers
 * 409, or opens a new group when the campaign says so). The outcome reaches each order by signal.
 */
export async function groupBuyWorkflow(input: GroupInput): Promise<GroupView> {
  const { terms } = input;
  const view: GroupView = {
    groupId: input.groupId,
    campaignId: terms.campaignId,
    skuId: terms.skuId,
    groupPriceFen: terms.groupPriceFen,
    groupSize: terms.groupSize,
    status: 'FORMING',
    virtualSuccess: false,
    openedAt: input.openedAt,
    deadline: input.deadline,
    members: [],
    seatsLeft: terms.groupSize,
    paidMembers: 0,
  };
  const seated = () => view.members.filter((member) => member.status !== 'LEFT');
  const refresh = () => {
    view.paidMembers = view.members.filter((member) => member.status === 'PAID').length;
    view.seatsLeft = terms.groupSize - seated().length;
  };

  setHandler(getGroupQuery, () => view);
  setHandler(
    joinGroupUpdate,
    (join: JoinRequest) => {
      if (!view.members.some((member) => member.orderId === join.orderId)) {
        const member: GroupMember = { orderId: join.orderId, customerId: join.customerId, leader: view.members.length === 0, status: 'JOINED', joinedAt: new Date().toISOString() };
        view.members.push(member);
        refresh();
        if (input.seatHoldMs) void releaseIfUnpaid(member, input.seatHoldMs);
      }
      return view;
    },
    {
      validator: (join: JoinRequest) => {
        if (view.members.some((member) => member.orderId === join.orderId)) return; // a retry of the same order
        const refuse = (type: string, message: string) => {
          throw ApplicationFailure.create({ type, message, nonRetryable: true, details: [{ groupId: view.groupId, deadline: view.deadline }] });
        };
        if (join.campaignId !== view.campaignId) refuse('OTHER_CAMPAIGN', `group ${view.groupId} belongs to another campaign`);
        if (view.status !== 'FORMING' || Date.now() >= Date.parse(view.deadline)) refuse('GROUP_CLOSED', `group ${view.groupId} is ${view.status === 'FORMING' ? 'expired' : view.status.toLowerCase()}`);
        if (seated().some((member) => member.customerId === join.customerId)) refuse('ALREADY_IN_GROUP', `buyer ${join.customerId} is already in group ${view.groupId}`);
        if (view.seatsLeft <= 0) refuse('GROUP_FULL', `group ${view.groupId} is full (${view.groupSize} members)`);
      },
    },
  );
  /** An order that never reported back (never started after its join): its seat frees up. */
  async function releaseIfUnpaid(member: GroupMember, holdMs: number): Promise<void> {
    await sleep(holdMs, { summary: `seat hold of ${member.orderId}` });
    if (member.status !== 'JOINED' || view.status !== 'FORMING') return;
    member.status = 'LEFT';
    member.released = true;
    log.warn('seat released: the member order neither paid nor left in time', { orderId: member.orderId });
    refresh();
  }

  setHandler(memberPaidSignal, ({ orderId, paidAt }) => {
    const member = view.members.find((candidate) => candidate.orderId === orderId);
    if (!member) return;
    // A released seat paid after all: seated again when there is room, else it is told FAILED (refunded).
    if (member.released && member.status === 'LEFT' && view.status === 'FORMING' && view.seatsLeft > 0) member.status = 'JOINED';
    if (member.status !== 'JOINED') return;
    member.status = 'PAID';
    member.paidAt = paidAt;
    refresh();
  });
  setHandler(memberLeftSignal, ({ orderId, reason }) => {
    const member = view.members.find((candidate) => candidate.orderId === orderId);
    if (!member || member.status !== 'JOINED') return; // paid members stay until the outcome
    member.status = 'LEFT';
    log.info('member left the group', { orderId, reason });
    refresh();
  });

  const formed = await condition(() => view.paidMembers >= terms.groupSize, Math.max(1, Date.parse(input.deadline) - Date.now()), {
    summary: 'wait for the group to fill (formation window)',
  });
  const virtual = !formed && terms.minRealMembers !== undefined && view.paidMembers >= terms.minRealMembers;
  view.status = formed || virtual ? 'SUCCEEDED' : 'FAILED';
  view.virtualSuccess = virtual;
  view.decidedAt = new Date().toISOString();
  const reason = formed
    ? `${terms.groupSize} members paid`
    : virtual
      ? `virtual success: ${view.paidMembers} of ${terms.groupSize} paid by the deadline`
      : `only ${view.paidMembers} of ${terms.groupSize} paid by the deadline`;
  log.info('group decided', { groupId: view.groupId, status: view.status, reason });

  for (const member of view.members) {
    if (member.status === 'LEFT' && !member.released) continue; // its order has ended
    const outcome = view.status === 'SUCCEEDED' && member.status === 'PAID' ? 'SUCCEEDED' : 'FAILED';
    try {
      await getExternalWorkflowHandle(orderWorkflowId(member.orderId)).signal(groupOutcomeSignal, {
        groupId: view.groupId,
        outcome,
        virtual,
        reason: outcome === 'FAILED' && view.status === 'SUCCEEDED' ? 'the group formed before your payment' : reason,
      });
    } catch (error) {
      // The order has already finished (cancelled, say): nothing to tell it.
      log.warn('could not signal a member order', { orderId: member.orderId, error: (error as Error).message });
    }
  }
  await condition(allHandlersFinished);
  return view;
}
