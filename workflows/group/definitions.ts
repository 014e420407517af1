import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PlaceOrderInput } from '../order/definitions';

/**
 * The group of a group-buy (拼团) and what its members' orders say to it (definitions only, shared by
 * workflows and the API). A group is a workflow of its own, `group-<groupId>`, opened by the
 * leader's order request (update-with-start of `joinGroup`); members join with the same update.
 */
export const groupWorkflowId = (groupId: string) => `group-${groupId}`;

export interface GroupTerms {
  campaignId: string;
  skuId: string;
  groupPriceFen: number;
  groupSize: number;
  /** 虚拟成团: at expiry the group succeeds when at least this many members paid. */
  minRealMembers?: number;
}

export interface GroupInput {
  groupId: string;
  terms: GroupTerms;
  openedAt: string;
  /** The end of the formation window (never after the campaign's end). */
  deadline: string;
  /**
   * A seat not paid within this is freed by the group itself (the member's order normally leaves at
   * its payment timeout; this covers an order that was never started after its join). Unset: never.
   */
  seatHoldMs?: number;
}

export type GroupStatus = 'FORMING' | 'SUCCEEDED' | 'FAILED';
export type MemberStatus = 'JOINED' | 'PAID' | 'LEFT';

export interface GroupMember {
  orderId: string;
  customerId: string;
  leader: boolean;
  status: MemberStatus;
  joinedAt: string;
  paidAt?: string;
  /** The group freed the seat itself (seatHoldMs passed without payment). */
  released?: boolean;
}

export interface GroupView {
  groupId: string;
  campaignId: string;
  skuId: string;
  groupPriceFen: number;
  groupSize: number;
  status: GroupStatus;
  /** True when the group succeeded at expiry with fewer than groupSize paid members. */
  virtualSuccess: boolean;
  openedAt: string;
  deadline: string;
  decidedAt?: string;
  members: GroupMember[];
  /** Seats neither paid nor held by a member still within their payment time. */
  seatsLeft: number;
  paidMembers: number;
}

export interface JoinRequest {
  orderId: string;
  customerId: string;
  campaignId: string;
}

/** Takes a seat for the order (idempotent by order id); refused when full, closed or the buyer is in already. */
export const joinGroupUpdate = defineUpdate<GroupView, [JoinRequest]>('joinGroup');
export const memberPaidSignal = defineSignal<[{ orderId: string; paidAt: string }]>('memberPaid');
/** The member's order ended before the group's outcome (payment timeout, rejection): the seat frees up. */
export const memberLeftSignal = defineSignal<[{ orderId: string; reason: string }]>('memberLeft');
export const getGroupQuery = defineQuery<GroupView>('getGroup');

/** Sent by the group to each member's order: proceed to shipment, or be cancelled and refunded. */
export interface GroupOutcome {
  groupId: string;
  outcome: 'SUCCEEDED' | 'FAILED';
  virtual: boolean;
  reason: string;
}
export const groupOutcomeSignal = defineSignal<[GroupOutcome]>('groupOutcome');

/** Refusal codes of joinGroup (ApplicationFailure types). */
export const JOIN_REFUSALS = ['GROUP_FULL', 'GROUP_CLOSED', 'ALREADY_IN_GROUP', 'OTHER_CAMPAIGN'] as const;

export interface GroupBuyOrderInput extends PlaceOrderInput {
  group: GroupTerms & {
    groupId: string;
    leader: boolean;
    /**
     * The campaign's per-user limit (units across the whole campaign): placement takes the order's
     * units of it (`<orderId>:group-limit`) and every compensation gives them back. Unset (orders
     * started before the limit existed): not enforced by the order.
     */
    perUserLimit?: number;
  };
}
