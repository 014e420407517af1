import { ApplicationFailure } from '@temporalio/common';
import { createInventoryActivities } from '../../activities/inventory';
import { createInventoryService, type InventoryService } from '../../modules/inventory';
import { AlreadyCompensatedError, DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
let inventory: InventoryService;
beforeAll(async () => {
  env = await createTestEnv();
  inventory = createInventoryService({ pool: env.pool });
  await inventory.upsertWarehouse({ id: 'wh_second', name: 'Second', priority: 20 });
  await inventory.upsertWarehouse({ id: 'wh_first', name: 'First', priority: 10 });
});
afterAll(() => env.close());

async function domainErrorOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

function reserveInput(campaignId: string, orderId: string, quantity = 1) {
  return { idempotencyKey: `${orderId}:reserve-campaign-stock`, campaignId, skuId: 'sku_watch', quantity, orderId };
}

describe('campaign stock', () => {
  test('allocation is once per key and the cap can never drop below what is reserved or sold', async () => {
    const first = await inventory.allocateCampaignStock({ idempotencyKey: 'c1:allocate', campaignId: 'c1', skuId: 'sku_watch', cap: 5 });
    expect(await inventory.allocateCampaignStock({ idempotencyKey: 'c1:allocate', campaignId: 'c1', skuId: 'sku_watch', cap: 50 })).toEqual(first);
    expect(first).toEqual({ campaignId: 'c1', skuId: 'sku_watch', cap: 5, reserved: 0, sold: 0, available: 5 });

    await inventory.reserveCampaignStock(reserveInput('c1', 'ord_1', 3));
    const error = await domainErrorOf(inventory.allocateCampaignStock({ idempotencyKey: 'c1:shrink', campaignId: 'c1', skuId: 'sku_watch', cap: 2 }));
    expect(error.code).toBe('CAMPAIGN_CAP_BELOW_USED');
    expect(await inventory.allocateCampaignStock({ idempotencyKey: 'c1:grow', campaignId: 'c1', skuId: 'sku_watch', cap: 8 })).toMatchObject({
      cap: 8,
      reserved: 3,
      available: 5,
    });
  });

  test('reserve is once per key; release undoes it once; a late reserve with the key is refused', async () => {
    await inventory.allocateCampaignStock({ idempotencyKey: 'c2:allocate', campaignId: 'c2', skuId: 'sku_watch', cap: 4 });
    const input = reserveInput('c2', 'ord_2', 2);
    expect(await inventory.reserveCampaignStock(input)).toEqual(await inventory.reserveCampaignStock(input));
    expect(await inventory.getCampaignStock('c2', 'sku_watch')).toMatchObject({ reserved: 2, available: 2 });

    expect((await inventory.releaseCampaignStock({ idempotencyKey: input.idempotencyKey })).outcome).toBe('undone');
    expect((await inventory.releaseCampaignStock({ idempotencyKey: input.idempotencyKey })).outcome).toBe('already');
    expect(await inventory.getCampaignStock('c2', 'sku_watch')).toMatchObject({ reserved: 0, available: 4 });
    await expect(inventory.reserveCampaignStock(input)).rejects.toBeInstanceOf(AlreadyCompensatedError);

    expect((await inventory.releaseCampaignStock({ idempotencyKey: 'ord_never:reserve-campaign-stock' })).outcome).toBe('nothing');
    await expect(inventory.reserveCampaignStock(reserveInput('c2', 'ord_never'))).rejects.toBeInstanceOf(AlreadyCompensatedError);
    expect(await inventory.getCampaignStock('c2', 'sku_watch')).toMatchObject({ reserved: 0, available: 4 });
  });

  test('commit turns reserved units into sold once; release after commit and commit after release are refused', async () => {
    await inventory.allocateCampaignStock({ idempotencyKey: 'c3:allocate', campaignId: 'c3', skuId: 'sku_watch', cap: 3 });
    const shipped = reserveInput('c3', 'ord_3a');
    await inventory.reserveCampaignStock(shipped);
    const commit = { idempotencyKey: 'ord_3a:commit-campaign-stock', reservationKey: shipped.idempotencyKey };
    expect(await inventory.commitCampaignStock(commit)).toEqual(await inventory.commitCampaignStock(commit));
    expect(await inventory.getCampaignStock('c3', 'sku_watch')).toMatchObject({ reserved: 0, sold: 1, available: 2 });
    expect((await domainErrorOf(inventory.releaseCampaignStock({ idempotencyKey: shipped.idempotencyKey }))).code).toBe('RESERVATION_COMMITTED');

    const cancelled = reserveInput('c3', 'ord_3b');
    await inventory.reserveCampaignStock(cancelled);
    await inventory.releaseCampaignStock({ idempotencyKey: cancelled.idempotencyKey });
    const refused = await domainErrorOf(inventory.commitCampaignStock({ idempotencyKey: 'ord_3b:commit', reservationKey: cancelled.idempotencyKey }));
    expect(refused.code).toBe('RESERVATION_RELEASED');
    expect(await inventory.getCampaignStock('c3', 'sku_watch')).toMatchObject({ reserved: 0, sold: 1, available: 2 });
  });

  test('sold out and unknown campaigns are refused with their reasons', async () => {
    await inventory.allocateCampaignStock({ idempotencyKey: 'c4:allocate', campaignId: 'c4', skuId: 'sku_watch', cap: 1 });
    const soldOut = await domainErrorOf(inventory.reserveCampaignStock(reserveInput('c4', 'ord_4', 2)));
    expect(soldOut.code).toBe('CAMPAIGN_SOLD_OUT');
    expect(soldOut.details).toEqual({ campaignId: 'c4', skuId: 'sku_watch', requested: 2, available: 1 });
    expect((await domainErrorOf(inventory.reserveCampaignStock(reserveInput('c_none', 'ord_5')))).code).toBe('CAMPAIGN_STOCK_NOT_FOUND');
  });

  test('a returned campaign unit joins normal stock in the first warehouse by priority', async () => {
    await inventory.allocateCampaignStock({ idempotencyKey: 'c5:allocate', campaignId: 'c5', skuId: 'sku_watch', cap: 2 });
    const reservation = reserveInput('c5', 'ord_6', 2);
    await inventory.reserveCampaignStock(reservation);
    await inventory.commitCampaignStock({ idempotencyKey: 'ord_6:commit', reservationKey: reservation.idempotencyKey });
    const restocked = await inventory.restock({ idempotencyKey: 'ord_6:return', orderId: 'ord_6', lines: [{ skuId: 'sku_watch', quantity: 2 }] });
    expect(restocked.allocations).toEqual([{ skuId: 'sku_watch', warehouseId: 'wh_first', quantity: 2 }]);
    expect(await inventory.getStock('sku_watch')).toMatchObject({ onHand: 2, reserved: 0, available: 2 });
    const more = await domainErrorOf(inventory.restock({ idempotencyKey: 'ord_6:return-2', orderId: 'ord_6', lines: [{ skuId: 'sku_watch', quantity: 1 }] }));
    expect(more.code).toBe('RESTOCK_EXCEEDS_SHIPPED');
  });
});

describe('activities', () => {
  const activities = () => createInventoryActivities({ pool: env.pool });

  test('an order lives through reserveStock, commitStock and restockReturn; retries change nothing', async () => {
    await inventory.setStock({ skuId: 'sku_act', warehouseId: 'wh_second', onHand: 5 });
    const act = activities();
    const reserve = { idempotencyKey: 'ord_a:reserve-stock', orderId: 'ord_a', lines: [{ skuId: 'sku_act', quantity: 3 }] };
    await act.reserveStock(reserve);
    await act.reserveStock(reserve);
    await act.commitStock({ idempotencyKey: 'ord_a:commit-stock', reservationKey: reserve.idempotencyKey });
    await act.commitStock({ idempotencyKey: 'ord_a:commit-stock', reservationKey: reserve.idempotencyKey });
    await act.restockReturn({ idempotencyKey: 'ord_a:return', orderId: 'ord_a', lines: [{ skuId: 'sku_act', quantity: 1 }] });
    await act.restockReturn({ idempotencyKey: 'ord_a:return', orderId: 'ord_a', lines: [{ skuId: 'sku_act', quantity: 1 }] });
    expect(await inventory.getStock('sku_act')).toMatchObject({ onHand: 3, reserved: 0, available: 3 });
  });

  test('OUT_OF_STOCK becomes a non-retryable failure carrying the SKU and numbers; releaseStock undoes', async () => {
    await inventory.setStock({ skuId: 'sku_act2', warehouseId: 'wh_first', onHand: 1 });
    const act = activities();
    const failure = await act
      .reserveStock({ idempotencyKey: 'ord_b:reserve-stock', orderId: 'ord_b', lines: [{ skuId: 'sku_act2', quantity: 2 }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('OUT_OF_STOCK');
    expect((failure as ApplicationFailure).nonRetryable).toBe(true);
    expect((failure as ApplicationFailure).details).toEqual([{ skuId: 'sku_act2', requested: 2, available: 1 }]);

    await act.reserveStock({ idempotencyKey: 'ord_c:reserve-stock', orderId: 'ord_c', lines: [{ skuId: 'sku_act2', quantity: 1 }] });
    expect((await act.releaseStock({ idempotencyKey: 'ord_c:reserve-stock' })).outcome).toBe('undone');
    expect(await inventory.getStock('sku_act2')).toMatchObject({ reserved: 0, available: 1 });
  });

  test('campaign activities reserve, release and commit the campaign pool', async () => {
    await inventory.allocateCampaignStock({ idempotencyKey: 'c6:allocate', campaignId: 'c6', skuId: 'sku_watch', cap: 2 });
    const act = activities();
    await act.reserveCampaignStock(reserveInput('c6', 'ord_d'));
    await act.reserveCampaignStock(reserveInput('c6', 'ord_e'));
    await act.releaseCampaignStock({ idempotencyKey: 'ord_d:reserve-campaign-stock' });
    await act.commitCampaignStock({ idempotencyKey: 'ord_e:commit', reservationKey: 'ord_e:reserve-campaign-stock' });
    expect(await inventory.getCampaignStock('c6', 'sku_watch')).toMatchObject({ cap: 2, reserved: 0, sold: 1, available: 1 });
    const soldOut = await act.reserveCampaignStock(reserveInput('c6', 'ord_f', 2)).catch((error: unknown) => error);
    expect((soldOut as ApplicationFailure).type).toBe('CAMPAIGN_SOLD_OUT');
  });
});
