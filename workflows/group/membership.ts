import { condition, getExternalWorkflowHandle, log, setHandler } from '@temporalio/workflow';
import type { OrderContext } from '../order/context';
import { requestCancel } from '../order/spine';
import { now } from '../shared/time';
import { groupOutcomeSignal, groupWorkflowId, memberLeftSignal, memberPaidSignal, type GroupBuyOrderInput, type GroupOutcome } from './definitions';

/**
 * A member order's side of its group: the outcome it waits for (the policy reads it: nothing ships
 * before success, a paid member cannot leave a forming group) and what it tells the group.
 */
export class GroupMembership {
  constructor(
    private readonly order: OrderContext,
    private readonly terms: GroupBuyOrderInput['group'],
  ) {
    order.view.group = { campaignId: terms.campaignId, groupId: terms.groupId, leader: terms.leader, outcome: 'PENDING' };
    order.typeFacts.groupOutcome = 'PENDING';
    setHandler(groupOutcomeSignal, (outcome) => this.onOutcome(outcome));
  }

  private onOutcome(outcome: GroupOutcome): void {
    const group = this.order.view.group!;
    if (outcome.groupId !== this.terms.groupId || group.outcome !== 'PENDING') return;
    group.outcome = outcome.outcome;
    group.decidedAt = now();
    this.order.typeFacts.groupOutcome = outcome.outcome;
    this.order.record(outcome.outcome === 'SUCCEEDED' ? 'group succeeded' : 'group failed', { reason: outcome.reason, virtual: outcome.virtual });
    // A failed group cancels its members' orders (refunded in full), whatever a buyer could do.
    if (outcome.outcome === 'FAILED' && !this.order.cancellation && !this.order.shipment) {
      requestCancel(this.order, { reason: `group failed: ${outcome.reason}`, by: 'system' });
    }
  }

  /** Tells the group the seat is paid: it counts towards groupSize. */
  async reportPaid(): Promise<void> {
    await this.tell((group) => group.signal(memberPaidSignal, { orderId: this.order.orderId, paidAt: now() }));
    this.order.record('waiting for the group', { groupId: this.terms.groupId });
    await this.order.project();
  }

  /** Frees the seat of an order that ended before paying; harmless when the group has decided. */
  async leave(reason: string): Promise<void> {
    if (this.order.view.group!.outcome !== 'PENDING') return;
    await this.tell((group) => group.signal(memberLeftSignal, { orderId: this.order.orderId, reason }));
  }

  /** True when the group succeeded; false when it failed (the order is then cancelled and refunded). */
  async awaitOutcome(): Promise<boolean> {
    await condition(() => this.order.typeFacts.groupOutcome !== 'PENDING' || this.order.cancellation !== undefined);
    // The warehouse and the storefront read the projection: it must show the group's outcome now.
    await this.order.project();
    return this.order.typeFacts.groupOutcome === 'SUCCEEDED' && !this.order.cancellation;
  }

  private async tell(send: (group: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>): Promise<void> {
    try {
      await send(getExternalWorkflowHandle(groupWorkflowId(this.terms.groupId)));
    } catch (error) {
      // The group has decided and closed; its outcome signal reaches (or reached) this order.
      log.warn('could not signal the group', { groupId: this.terms.groupId, error: (error as Error).message });
    }
  }
}
