import request from 'supertest';
import type { OrderView } from '../../workflows/order/definitions';
import { API_KEYS, customerAuth } from './api';
import { eventually, type TestApi } from './api-server';

/**
 * What saga tests do through the HTTP API, as a buyer, the sandbox payment page, the warehouse and
 * the carrier would: place, read and wait for orders, pay, ship, deliver.
 */
export function storefront(api: () => Pick<TestApi, 'url'>) {
  const client = {
    placeOrder(memberId: string, body: object, key = `key-${memberId}-${Math.random()}`) {
      return request(api().url).post('/orders').set('Authorization', customerAuth(memberId)).set('Idempotency-Key', key).send(body);
    },
    async getOrder(memberId: string, orderId: string): Promise<OrderView> {
      const response = await request(api().url).get(`/orders/${orderId}`).set('Authorization', customerAuth(memberId));
      expect(response.status).toBe(200);
      return response.body as OrderView;
    },
    waitForStatus(memberId: string, orderId: string, status: string, timeoutMs = 30_000): Promise<OrderView> {
      return eventually(async () => {
        const order = await client.getOrder(memberId, orderId);
        return order.status === status ? order : undefined;
      }, timeoutMs, `order ${orderId} to be ${status}`);
    },
    /** The buyer pays the intent on the sandbox provider's page; its signed webhook tells the order. */
    async pay(intentId: string) {
      const response = await request(api().url).post(`/sandbox/intents/${intentId}/pay`).send({});
      expect(response.status).toBe(200);
      return response.body;
    },
    async ship(orderId: string) {
      const shipped = await request(api().url).post(`/warehouse/orders/${orderId}/ship`).set('X-API-Key', API_KEYS.warehouse).send({ carrier: 'SF', trackingNumber: 'SF1' });
      expect(shipped.status).toBe(200);
      return shipped.body as OrderView;
    },
    async deliver(orderId: string) {
      const delivered = await request(api().url).post(`/carrier/orders/${orderId}/delivered`).set('X-API-Key', API_KEYS.carrier).send({});
      expect(delivered.status).toBe(200);
      return delivered.body as OrderView;
    },
  };
  return client;
}
