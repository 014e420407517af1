import { condition, getExternalWorkflowHandle, log, setHandler } from '@temporalio/workflow';
import { forward, mustComplete } from '../order/activities';
import type { OrderTimeouts, OrderView } from '../order/definitions';
import { OrderRun } from '../order/order-run';
import { now } from '../order/state';
import { groupOutcomeSignal, groupWorkflowId, memberLeftSignal, memberPaidSignal, type GroupBuyOrderInput, type GroupOutcome } from './definitions';

/**
 * A member's order in a group-buy (拼团), on the standard spine (OrderRun):
 *
 *   (the API has taken a seat in the group: joinGroup)
 *   place at the group price (stock reserved, coupon, points, intent)   → REJECTED (seat freed)
 *   → PENDING_PAYMENT → paid, or member payment timeout (15 min)        → CANCELLED (seat freed;
 *     the group carries on)
 *   → PAID: the group is told; the order waits for the group's outcome (nothing ships before it)
 *       FAILED (expired without enough paid members) → CANCELLED, refunded in full by the saga
 *       SUCCEEDED → shipment, delivery, completion as the standard order.
 *
 * A paid member cannot cancel while the group is forming (if the group fails, they are refunded in full).
 * Placement first takes the order's units of the buyer's per-user limit across the campaign (the API
 * took them already before seating the buyer; same key, so this is where the saga learns of them);
 * a rejection, cancel, payment timeout or failed group gives them back.
 */
export async function groupBuyOrderWorkflow(input: GroupBuyOrderInput, timeouts: OrderTimeouts): Promise<OrderView> {
  const run = new GroupBuyRun(input, timeouts);

  if (!(await run.place())) {
    await run.leaveGroup('order rejected');
    return run.finish();
  }
  if ((await run.awaitPayment()) !== 'paid') {
    await run.leaveGroup(run.cancellation ? run.cancellation.reason : 'payment timeout');
    return run.cancelAndFinish();
  }
  await run.takePayment();
  await run.reportPaid();
  if (!(await run.awaitGroupOutcome())) return run.cancelAndFinish();
  if (!(await run.awaitShipment())) return run.cancelAndFinish();
  await run.deliverAndComplete();
  return run.finish();
}

class GroupBuyRun extends OrderRun {
  readonly groupInput: GroupBuyOrderInput['group'];

  constructor(input: GroupBuyOrderInput, timeouts: OrderTimeouts) {
    super(input, 'GROUP_BUY', timeouts);
    this.groupInput = input.group;
    this.order.view.group = { campaignId: input.group.campaignId, groupId: input.group.groupId, leader: input.group.leader, outcome: 'PENDING' };
    setHandler(groupOutcomeSignal, (outcome: GroupOutcome) => this.onGroupOutcome(outcome));
  }

  private get group() {
    return this.order.view.group!;
  }

  private onGroupOutcome(outcome: GroupOutcome): void {
    if (outcome.groupId !== this.groupInput.groupId || this.group.outcome !== 'PENDING') return;
    this.group.outcome = outcome.outcome;
    this.group.decidedAt = now();
    this.order.record(outcome.outcome === 'SUCCEEDED' ? 'group succeeded' : 'group failed', { reason: outcome.reason, virtual: outcome.virtual });
    if (outcome.outcome === 'FAILED' && !this.cancellation && !this.shipment) {
      this.cancellation = { reason: `group failed: ${outcome.reason}`, by: 'system' };
    }
  }

  /** The buyer's per-user limit first (refused: LIMIT_REACHED, the order is rejected), then the standard placement. */
  protected override async priceAndHold(): Promise<void> {
    const perUserLimit = this.groupInput.perUserLimit;
    if (perUserLimit !== undefined) {
      this.saga.onUndo('group-limit', 'return the units to the per-user limit', () => this.returnLimit());
      await forward.takeGroupBuyLimit.executeWithOptions({ summary: 'take units of the per-user limit' }, [
        {
          idempotencyKey: this.key('group-limit'),
          campaignId: this.groupInput.campaignId,
          customerId: this.input.customerId,
          quantity: this.input.lines.reduce((sum, line) => sum + line.quantity, 0),
          perUserLimit,
        },
      ]);
    }
    await super.priceAndHold();
  }

  private async returnLimit(): Promise<void> {
    if (this.groupInput.perUserLimit === undefined) return;
    await mustComplete.returnGroupBuyLimit.executeWithOptions({ summary: 'compensate: return units to the per-user limit' }, [
      { idempotencyKey: this.key('group-limit') },
    ]);
  }

  /** Refunded in full before shipment (after-sales) ends without the saga: the units go back too. */
  override async cancelAndFinish(): Promise<OrderView> {
    if (this.afterSales.refundedInFull && !this.shipment) await this.returnLimit();
    return super.cancelAndFinish();
  }

  /** Group price instead of the list price for the campaign's SKU. */
  protected override unitPriceFor(skuId: string, listPriceFen: number): number {
    return skuId === this.groupInput.skuId ? this.groupInput.groupPriceFen : listPriceFen;
  }

  /** Tells the group the seat is paid: it counts towards groupSize. */
  async reportPaid(): Promise<void> {
    await this.tellGroup(async (group) => group.signal(memberPaidSignal, { orderId: this.input.orderId, paidAt: now() }));
    this.order.record('waiting for the group', { groupId: this.groupInput.groupId });
    await this.project();
  }

  /** Frees the seat of an order that ended before paying; harmless when the group has decided. */
  async leaveGroup(reason: string): Promise<void> {
    if (this.group.outcome !== 'PENDING') return;
    await this.tellGroup(async (group) => group.signal(memberLeftSignal, { orderId: this.input.orderId, reason }));
  }

  private async tellGroup(send: (group: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>): Promise<void> {
    try {
      await send(getExternalWorkflowHandle(groupWorkflowId(this.groupInput.groupId)));
    } catch (error) {
      // The group has decided and closed; its outcome signal reaches (or reached) this order.
      log.warn('could not signal the group', { groupId: this.groupInput.groupId, error: (error as Error).message });
    }
  }

  /** True when the group succeeded; false when it failed (the order is then cancelled and refunded). */
  async awaitGroupOutcome(): Promise<boolean> {
    await condition(() => this.group.outcome !== 'PENDING' || this.cancellation !== undefined);
    return this.group.outcome === 'SUCCEEDED' && !this.cancellation;
  }

  /** Nothing ships before the group succeeds. */
  protected override assertShippable(): void {
    if (this.group.outcome !== 'SUCCEEDED') throw new Error(`the group ${this.groupInput.groupId} has not succeeded yet; nothing ships before it does`);
    super.assertShippable();
  }

  /** A paid member stays in a forming group; before paying (or after the outcome) the standard rules apply. */
  protected override assertCancellable(): void {
    if (this.order.status === 'PAID' && this.group.outcome === 'PENDING') {
      throw new Error(`the group ${this.groupInput.groupId} is forming: a paid member cannot leave it (if it fails, the order is refunded in full)`);
    }
    super.assertCancellable();
  }
}
