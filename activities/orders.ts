import { createOrderProjection } from '../modules/orders/projection';
import type { OrderView } from '../workflows/order/definitions';
import type { ActivityDeps } from './deps';

/** Activities of the order itself (its PostgreSQL projection). */
export function createOrderActivities({ pool }: ActivityDeps) {
  const projection = createOrderProjection({ pool });
  return {
    async projectOrder(view: OrderView): Promise<void> {
      await projection.save(view);
    },
  };
}

export type OrderActivities = ReturnType<typeof createOrderActivities>;
