import request from 'supertest';
import type { GroupView } from '../../workflows/group/definitions';
import { customerAuth } from '../support/api';
import { eventually } from '../support/api-server';
import { addSku } from '../support/fixtures';
import type { CaseContext, PhasedOrder } from './kit';

/** Presale (100 yuan, deposit 20 counting as 50) and group-buy (group price 80 yuan) terms of the cases. */
export const PRESALE = { priceFen: 10_000, depositFen: 2_000, depositValueFen: 5_000 };
export const GROUP_PRICE = 8_000;
const LIST_PRICE = 10_000;

export interface PresaleCampaign {
  id: string;
  depositStart: string;
  depositEnd: string;
  finalStart: string;
  finalEnd: string;
}

/** Campaigns as an admin defines them and buyers join them, through the API. */
export function campaignSteps(context: () => CaseContext, shared: { next(prefix: string): string; admin(path: string, body: object): request.Test }) {
  const url = () => context().api.url;
  const env = () => context().env;
  const { next, admin } = shared;
  const steps = {
    /** A presale (100 yuan, deposit 20 counting as 50) whose deposit window is open now. */
    async createPresale(skuId: string, options: { finalInMs?: number; finalForMs?: number; depositRefundable?: boolean } = {}): Promise<PresaleCampaign> {
      const now = Date.now();
      const finalStart = new Date(now + (options.finalInMs ?? 5_000));
      const definition = {
        id: `presale_${skuId}`,
        kind: 'PRESALE',
        name: `Presale of ${skuId}`,
        skuId,
        presalePriceFen: PRESALE.priceFen,
        depositFen: PRESALE.depositFen,
        depositValueFen: PRESALE.depositValueFen,
        depositStart: new Date(now - 60_000).toISOString(),
        depositEnd: new Date(finalStart.getTime() - 500).toISOString(),
        finalStart: finalStart.toISOString(),
        finalEnd: new Date(finalStart.getTime() + (options.finalForMs ?? 60_000)).toISOString(),
        depositRefundable: options.depositRefundable ?? false,
      };
      const created = await admin('/admin/campaigns', definition);
      expect(created.status).toBe(201);
      return definition;
    },
    async placeDeposit(memberId: string, campaignId: string, body: object = {}): Promise<PhasedOrder> {
      const placed = await request(url())
        .post(`/presales/${campaignId}/orders`)
        .set('Authorization', customerAuth(memberId))
        .set('Idempotency-Key', next('key'))
        .send(body);
      expect(placed.status).toBe(201);
      return placed.body as PhasedOrder;
    },
    /** POST /orders/{id}/final-payment; `timeoutMs` bounds the answer (a hang fails the test). */
    finalPayment(memberId: string, orderId: string, body: object = {}, timeoutMs = 20_000): request.Test {
      return request(url()).post(`/orders/${orderId}/final-payment`).set('Authorization', customerAuth(memberId)).timeout(timeoutMs).send(body);
    },
    /** A group-buy campaign (group price 80 yuan) on a fresh SKU. */
    async createGroupBuy(options: { groupSize: number; endsInMs?: number; stock?: number }): Promise<{ campaignId: string; skuId: string }> {
      const skuId = next('sku_group');
      await addSku(env().pool, skuId, LIST_PRICE, options.stock ?? 10);
      const definition = {
        id: `group_${skuId}`,
        kind: 'GROUP_BUY',
        name: `Group-buy of ${skuId}`,
        skuId,
        groupPriceFen: GROUP_PRICE,
        groupSize: options.groupSize,
        onFullGroup: 'REJECT',
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() + (options.endsInMs ?? 120_000)).toISOString(),
      };
      const created = await admin('/admin/campaigns', definition);
      expect(created.status).toBe(201);
      return { campaignId: definition.id, skuId };
    },
    async joinGroupBuy(memberId: string, campaignId: string, groupId?: string): Promise<PhasedOrder> {
      const placed = await request(url())
        .post(`/group-buys/${campaignId}/orders`)
        .set('Authorization', customerAuth(memberId))
        .set('Idempotency-Key', next('key'))
        .send(groupId ? { groupId } : {});
      expect(placed.status).toBe(201);
      return placed.body as PhasedOrder;
    },
    async group(groupId: string): Promise<GroupView> {
      const response = await request(url()).get(`/groups/${groupId}`).set('Authorization', customerAuth('anyone'));
      expect(response.status).toBe(200);
      return response.body as GroupView;
    },
    waitForGroup(groupId: string, status: string, timeoutMs = 30_000): Promise<GroupView> {
      return eventually(async () => {
        const current = await steps.group(groupId);
        return current.status === status ? current : undefined;
      }, timeoutMs, `group ${groupId} to be ${status}`);
    },
  };
  return steps;
}
