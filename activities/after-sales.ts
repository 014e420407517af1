import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createAfterSalesService } from '../modules/after-sales';
import { recordDecisionSchema, type RecordDecisionInput } from '../modules/after-sales/schemas';
import { planRefundUpdate, type PlanRefund, type RefundPlan, type RefundRequestView } from '../workflows/after-sales/definitions';
import { orderWorkflowId } from '../workflows/order/definitions';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

/** Activities of after-sales: the support agents' projection, the decision audit, the order's plan. */
export function createAfterSalesActivities(deps: ActivityDeps) {
  const afterSales = createAfterSalesService({ pool: deps.pool });
  return {
    async projectRefundRequest(view: RefundRequestView): Promise<void> {
      await afterSales.saveRequest(view);
    },
    /** The audit row of the decision that counted (who, when, what, why, workflow id and run id). */
    async recordRefundDecision(input: RecordDecisionInput) {
      return asActivity(() => afterSales.recordDecision(recordDecisionSchema.parse(input)));
    },
    /**
     * Asks the order (update `planRefund`, deduplicated by its update id) what an approved refund
     * carries: workflows cannot send updates to each other, so this activity does it with the
     * worker's client. A refusal by the order's validator is final.
     */
    async planRefundExecution(input: PlanRefund & { orderId: string }): Promise<RefundPlan> {
      const handle = Context.current().client.workflow.getHandle(orderWorkflowId(input.orderId));
      try {
        return await handle.executeUpdate(planRefundUpdate, {
          args: [{ requestId: input.requestId, amountFen: input.amountFen }],
          updateId: `${input.requestId}:plan`,
        });
      } catch (error) {
        if ((error as Error).name === 'WorkflowUpdateFailedError') {
          throw ApplicationFailure.create({ type: 'REFUND_PLAN_REFUSED', message: ((error as Error).cause as Error)?.message ?? String(error), nonRetryable: true });
        }
        throw error;
      }
    },
  };
}

export type AfterSalesActivities = ReturnType<typeof createAfterSalesActivities>;
