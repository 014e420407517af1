import type { Pool } from 'pg';
import type { SalesChannel } from '../../workflows/order/shipping-definitions';

/**
 * The channel of an order admitted before its workflow starts (flash sale): kept so the sweeper,
 * which may start the workflow later from another process, gives it the same channel. First write wins.
 */
export function createPlacementChannels({ pool }: { pool: Pool }) {
  return {
    async remember(orderId: string, channel: SalesChannel): Promise<void> {
      await pool.query('INSERT INTO orders.placement_channels (order_id, channel) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING', [orderId, JSON.stringify(channel)]);
    },
    async channelOf(orderId: string): Promise<SalesChannel | undefined> {
      const found = await pool.query<{ channel: SalesChannel }>('SELECT channel FROM orders.placement_channels WHERE order_id = $1', [orderId]);
      return found.rows[0]?.channel;
    },
  };
}
