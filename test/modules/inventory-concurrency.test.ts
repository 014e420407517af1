import { createInventoryService, type InventoryService } from '../../modules/inventory';
import { DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';
import { holdStatement, settlesWithin, type HeldStatement } from '../support/hold-statement';
import { countRoundTrips } from '../support/round-trips';

let env: TestEnv;
let inventory: InventoryService;
const idleConnectionErrors: Error[] = [];
beforeAll(async () => {
  env = await createTestEnv();
  // env.close() drops the database WITH (FORCE) while the pool's many idle connections may still be
  // closing; PostgreSQL then terminates them (57P01) and pg would raise an unhandled 'error'. Any
  // other error on an idle connection is real and fails the file.
  env.pool.on('error', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') idleConnectionErrors.push(error);
  });
  inventory = createInventoryService({ pool: env.pool });
  await inventory.upsertWarehouse({ id: 'wh_east', name: 'East', priority: 1 });
  await inventory.upsertWarehouse({ id: 'wh_west', name: 'West', priority: 2 });
});
afterAll(async () => {
  expect(idleConnectionErrors).toEqual([]);
  await env.close();
});

/** Splits settled calls into successes and refusal codes; anything else (a deadlock) fails the test. */
function outcomes<T>(settled: PromiseSettledResult<T>[]) {
  const refusals: string[] = [];
  for (const result of settled) {
    if (result.status === 'rejected') {
      if (!(result.reason instanceof DomainError)) throw result.reason;
      refusals.push(result.reason.code);
    }
  }
  return { succeeded: settled.length - refusals.length, refusals };
}

async function reservationCount(skuId: string): Promise<number> {
  const rows = await env.pool.query<{ units: number }>(
    `SELECT COALESCE(SUM(a.quantity), 0)::int AS units FROM inventory.reservation_allocations a
     JOIN inventory.reservations r ON r.key = a.reservation_key WHERE a.sku_id = $1 AND r.status = 'RESERVED'`,
    [skuId],
  );
  return rows.rows[0].units;
}

test('50 parallel one-unit orders for 10 units: exactly 10 reserved, 40 OUT_OF_STOCK, never oversold', async () => {
  const skuId = 'sku_hot';
  await inventory.setStock({ skuId, warehouseId: 'wh_east', onHand: 10 });
  const settled = await Promise.allSettled(
    Array.from({ length: 50 }, (_, index) =>
      inventory.reserve({ idempotencyKey: `ord_p${index}:reserve-stock`, orderId: `ord_p${index}`, lines: [{ skuId, quantity: 1 }] }),
    ),
  );
  const { succeeded, refusals } = outcomes(settled);
  expect(succeeded).toBe(10);
  expect(refusals).toEqual(Array(40).fill('OUT_OF_STOCK'));
  expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 10, available: 0 });
  expect(await reservationCount(skuId)).toBe(10);
});

test('parallel orders over stock split across two warehouses never oversell either warehouse', async () => {
  const skuId = 'sku_split_hot';
  await inventory.setStock({ skuId, warehouseId: 'wh_east', onHand: 4 });
  await inventory.setStock({ skuId, warehouseId: 'wh_west', onHand: 7 });
  const settled = await Promise.allSettled(
    Array.from({ length: 30 }, (_, index) =>
      inventory.reserve({ idempotencyKey: `ord_s${index}:reserve-stock`, orderId: `ord_s${index}`, lines: [{ skuId, quantity: 2 }] }),
    ),
  );
  const { succeeded, refusals } = outcomes(settled);
  expect(succeeded).toBe(5); // 11 units, 2 per order: 5 orders, 1 unit left
  expect(new Set(refusals)).toEqual(new Set(['OUT_OF_STOCK']));
  const stock = await inventory.getStock(skuId);
  expect(stock).toMatchObject({ onHand: 11, reserved: 10, available: 1 });
  for (const warehouse of stock.warehouses) expect(warehouse.available).toBeGreaterThanOrEqual(0);
});

test('orders naming two SKUs in opposite orders, in parallel, neither deadlock nor oversell', async () => {
  await inventory.setStock({ skuId: 'sku_pair_a', warehouseId: 'wh_east', onHand: 8 });
  await inventory.setStock({ skuId: 'sku_pair_b', warehouseId: 'wh_east', onHand: 8 });
  const settled = await Promise.allSettled(
    Array.from({ length: 20 }, (_, index) => {
      const lines = [
        { skuId: 'sku_pair_a', quantity: 1 },
        { skuId: 'sku_pair_b', quantity: 1 },
      ];
      return inventory.reserve({ idempotencyKey: `ord_x${index}:reserve-stock`, orderId: `ord_x${index}`, lines: index % 2 ? lines.reverse() : lines });
    }),
  );
  const { succeeded } = outcomes(settled);
  expect(succeeded).toBe(8);
  expect(await inventory.getStock('sku_pair_a')).toMatchObject({ reserved: 8, available: 0 });
  expect(await inventory.getStock('sku_pair_b')).toMatchObject({ reserved: 8, available: 0 });
});

test('reserves, releases and commits racing each other keep on hand and reserved exact', async () => {
  const skuId = 'sku_churn';
  await inventory.setStock({ skuId, warehouseId: 'wh_east', onHand: 20 });
  const keys = Array.from({ length: 20 }, (_, index) => `ord_c${index}:reserve-stock`);
  await Promise.all(keys.map((key, index) => inventory.reserve({ idempotencyKey: key, orderId: `ord_c${index}`, lines: [{ skuId, quantity: 1 }] })));
  // Even orders are cancelled, odd ones ship, while 20 newcomers compete for what is freed.
  const settled = await Promise.allSettled([
    ...keys.map((key, index) =>
      index % 2 === 0
        ? inventory.release({ idempotencyKey: key })
        : inventory.commit({ idempotencyKey: `ord_c${index}:commit-stock`, reservationKey: key }),
    ),
    ...Array.from({ length: 20 }, (_, index) =>
      inventory.reserve({ idempotencyKey: `ord_n${index}:reserve-stock`, orderId: `ord_n${index}`, lines: [{ skuId, quantity: 1 }] }),
    ),
  ]);
  outcomes(settled);
  const newcomers = settled.slice(20).filter((result) => result.status === 'fulfilled').length;
  const stock = await inventory.getStock(skuId);
  expect(stock.onHand).toBe(10); // 10 shipped
  expect(stock.reserved).toBe(newcomers);
  expect(await reservationCount(skuId)).toBe(newcomers);
  expect(newcomers).toBeLessThanOrEqual(10);
});

test('the same reserve key sent 10 times at once reserves once and answers the same', async () => {
  const skuId = 'sku_retry_storm';
  await inventory.setStock({ skuId, warehouseId: 'wh_west', onHand: 5 });
  const input = { idempotencyKey: 'ord_r:reserve-stock', orderId: 'ord_r', lines: [{ skuId, quantity: 2 }] };
  const results = await Promise.all(Array.from({ length: 10 }, () => inventory.reserve(input)));
  for (const result of results) expect(result).toEqual(results[0]);
  expect(await inventory.getStock(skuId)).toMatchObject({ reserved: 2, available: 3 });
});

test('campaign stock: 50 parallel buyers for a cap of 10 - exactly 10 reserved, 40 CAMPAIGN_SOLD_OUT', async () => {
  await inventory.allocateCampaignStock({ idempotencyKey: 'flash_1:sku_phone:allocate', campaignId: 'flash_1', skuId: 'sku_phone', cap: 10 });
  const settled = await Promise.allSettled(
    Array.from({ length: 50 }, (_, index) =>
      inventory.reserveCampaignStock({
        idempotencyKey: `ord_f${index}:reserve-campaign-stock`,
        campaignId: 'flash_1',
        skuId: 'sku_phone',
        quantity: 1,
        orderId: `ord_f${index}`,
      }),
    ),
  );
  const { succeeded, refusals } = outcomes(settled);
  expect(succeeded).toBe(10);
  expect(refusals).toEqual(Array(40).fill('CAMPAIGN_SOLD_OUT'));
  expect(await inventory.getCampaignStock('flash_1', 'sku_phone')).toEqual({
    campaignId: 'flash_1',
    skuId: 'sku_phone',
    cap: 10,
    reserved: 10,
    sold: 0,
    available: 0,
  });
  const rows = await env.pool.query(`SELECT count(*)::int AS n FROM inventory.campaign_reservations WHERE campaign_id = 'flash_1'`);
  expect(rows.rows[0].n).toBe(10);
  // Normal stock of the SKU is a separate pool and was never touched.
  expect(await inventory.getStock('sku_phone')).toMatchObject({ onHand: 0, reserved: 0 });
});

test('campaign stock: releases racing new buyers hand each freed unit to at most one buyer', async () => {
  await inventory.allocateCampaignStock({ idempotencyKey: 'flash_2:allocate', campaignId: 'flash_2', skuId: 'sku_tv', cap: 5 });
  const first = Array.from({ length: 5 }, (_, index) => `ord_h${index}:reserve-campaign-stock`);
  await Promise.all(
    first.map((key, index) => inventory.reserveCampaignStock({ idempotencyKey: key, campaignId: 'flash_2', skuId: 'sku_tv', quantity: 1, orderId: `ord_h${index}` })),
  );
  const settled = await Promise.allSettled([
    ...first.slice(0, 3).map((key) => inventory.releaseCampaignStock({ idempotencyKey: key })),
    ...Array.from({ length: 20 }, (_, index) =>
      inventory.reserveCampaignStock({ idempotencyKey: `ord_k${index}:rcs`, campaignId: 'flash_2', skuId: 'sku_tv', quantity: 1, orderId: `ord_k${index}` }),
    ),
  ]);
  outcomes(settled);
  const newcomers = settled.slice(3).filter((result) => result.status === 'fulfilled').length;
  expect(newcomers).toBeLessThanOrEqual(3);
  expect(await inventory.getCampaignStock('flash_2', 'sku_tv')).toMatchObject({ reserved: 2 + newcomers, available: 3 - newcomers });
});

describe("a hot SKU's stock lock is held only in an operation's last round trip (issue 17)", () => {
  let held: HeldStatement | undefined;
  afterEach(() => held?.restore());
  /** Holds the last round trip (writes and COMMIT) of the reservation with this key. */
  const holdReservationWrite = (key: string) => (held = holdStatement(new RegExp(`INSERT INTO inventory\\.reservations \\(key, order_id, created_at\\) VALUES \\('${key}'`)));
  const reserveOne = (orderId: string, skuId: string) => inventory.reserve({ idempotencyKey: `${orderId}:reserve-stock`, orderId, lines: [{ skuId, quantity: 1 }] });

  test('a second buyer reserves the same SKU while the first is between its read and its write', async () => {
    const skuId = 'sku_live_room';
    await inventory.setStock({ skuId, warehouseId: 'wh_east', onHand: 10 });
    const hold = holdReservationWrite('ord_hot_h1:reserve-stock');
    const first = reserveOne('ord_hot_h1', skuId);
    await hold.reached;
    // Before, the first held the row lock from its read: the second waited for as long as the first did.
    expect(await settlesWithin(3_000, reserveOne('ord_hot_h2', skuId))).toBe('done');
    hold.release();
    expect((await first).allocations).toEqual([{ skuId, warehouseId: 'wh_east', quantity: 1 }]);
    expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 2, available: 8 });
    expect(await reservationCount(skuId)).toBe(2);
  });

  test('the unit it read was taken meanwhile: decided again from a locked read, from the next warehouse', async () => {
    const skuId = 'sku_last_east';
    await inventory.setStock({ skuId, warehouseId: 'wh_east', onHand: 1 });
    await inventory.setStock({ skuId, warehouseId: 'wh_west', onHand: 3 });
    const hold = holdReservationWrite('ord_hot_t1:reserve-stock');
    const first = reserveOne('ord_hot_t1', skuId);
    await hold.reached; // it read East's last unit and chose it
    expect((await reserveOne('ord_hot_t2', skuId)).allocations).toEqual([{ skuId, warehouseId: 'wh_east', quantity: 1 }]);
    hold.release();
    expect((await first).allocations).toEqual([{ skuId, warehouseId: 'wh_west', quantity: 1 }]);
    const stock = await inventory.getStock(skuId);
    expect(stock).toMatchObject({ onHand: 4, reserved: 2, available: 2 });
    expect(stock.warehouses.map((w) => [w.warehouseId, w.reserved])).toEqual([['wh_east', 1], ['wh_west', 1]]);
  });

  test('a threshold crossed because of a reservation made meanwhile is alerted once, on the locked numbers', async () => {
    const skuId = 'sku_alert_race';
    await inventory.setStock({ skuId, warehouseId: 'wh_east', onHand: 11 });
    await inventory.setLowStockThreshold({ skuId, threshold: 10 });
    const hold = holdReservationWrite('ord_hot_a1:reserve-stock');
    const first = reserveOne('ord_hot_a1', skuId);
    await hold.reached; // it read 11 available: 10 after it, not below the threshold
    await reserveOne('ord_hot_a2', skuId); // 11 -> 10: not below either
    expect((await inventory.listLowStockAlerts()).filter((alert) => alert.skuId === skuId)).toEqual([]);
    hold.release();
    await first; // 10 -> 9: crossed, though its read said otherwise
    const alerts = (await inventory.listLowStockAlerts()).filter((alert) => alert.skuId === skuId);
    expect(alerts).toEqual([expect.objectContaining({ skuId, available: 9, threshold: 10, acknowledgedAt: null })]);
    const events = await env.pool.query(`SELECT data FROM events.outbox WHERE type = 'stock.low' AND data->>'skuId' = $1`, [skuId]);
    expect(events.rows).toEqual([{ data: expect.objectContaining({ skuId, available: 9, threshold: 10 }) }]);
    expect(await inventory.getStock(skuId)).toMatchObject({ reserved: 2, available: 9 });
  });

  test("a flash sale's pool: two round trips, and a second buyer is not kept waiting by a first held before its last", async () => {
    await inventory.allocateCampaignStock({ idempotencyKey: 'flash_hot:sku_hot_tv:allocate', campaignId: 'flash_hot', skuId: 'sku_hot_tv', cap: 3 });
    const take = (orderId: string) =>
      inventory.reserveCampaignStock({ idempotencyKey: `${orderId}:reserve-campaign-stock`, campaignId: 'flash_hot', skuId: 'sku_hot_tv', quantity: 1, orderId });
    expect(await countRoundTrips(() => take('ord_hot_c0'))).toBe(2);
    held = holdStatement(/INSERT INTO inventory\.campaign_reservations[\s\S]*'ord_hot_c1:reserve-campaign-stock'/);
    const first = take('ord_hot_c1');
    await held.reached;
    // Before, the first held the pool's row from its update through two more round trips.
    expect(await settlesWithin(3_000, take('ord_hot_c2'))).toBe('done');
    held.release();
    await first;
    const refused = await take('ord_hot_c3').catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'CAMPAIGN_SOLD_OUT', details: { requested: 1, available: 0 } });
    expect(await inventory.getCampaignStock('flash_hot', 'sku_hot_tv')).toMatchObject({ cap: 3, reserved: 3, sold: 0, available: 0 });
    const rows = await env.pool.query(`SELECT key FROM inventory.campaign_reservations WHERE campaign_id = 'flash_hot' ORDER BY key`);
    expect(rows.rows.map((row) => row.key)).toEqual(['ord_hot_c0:reserve-campaign-stock', 'ord_hot_c1:reserve-campaign-stock', 'ord_hot_c2:reserve-campaign-stock']);
    // The refused key was rolled back with its claim: it is free, and takes nothing now either.
    expect(await env.pool.query(`SELECT 1 FROM inventory.operations WHERE key = 'ord_hot_c3:reserve-campaign-stock'`)).toMatchObject({ rowCount: 0 });

    // A shipment's commit held before its last round trip does not keep the pool's row from a release.
    held.restore();
    held = holdStatement(/UPDATE inventory\.campaign_stock SET reserved = reserved - 1, sold = sold \+ 1/);
    const shipped = inventory.commitCampaignStock({ idempotencyKey: 'ord_hot_c0:commit-campaign-stock', reservationKey: 'ord_hot_c0:reserve-campaign-stock' });
    await held.reached;
    expect(await settlesWithin(3_000, inventory.releaseCampaignStock({ idempotencyKey: 'ord_hot_c1:reserve-campaign-stock' }))).toBe('done');
    held.release();
    await shipped;
    expect(await inventory.getCampaignStock('flash_hot', 'sku_hot_tv')).toMatchObject({ cap: 3, reserved: 1, sold: 1, available: 1 });
  });

  test("a parcel's stock commit does not keep a buyer of the same SKU waiting between its round trips", async () => {
    const skuId = 'sku_ship_hot';
    await inventory.setStock({ skuId, warehouseId: 'wh_east', onHand: 10 });
    await reserveOne('ord_hot_s1', skuId);
    held = holdStatement(/UPDATE inventory\.reservation_allocations SET state = 'COMMITTED' WHERE reservation_key = 'ord_hot_s1:reserve-stock'/);
    const commit = inventory.commitParcelStock({ idempotencyKey: 'ord_hot_s1-p1:commit-stock', reservationKey: 'ord_hot_s1:reserve-stock', warehouseId: 'wh_east' });
    await held.reached;
    expect(await settlesWithin(3_000, reserveOne('ord_hot_s2', skuId))).toBe('done');
    held.release();
    await commit;
    expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 9, reserved: 1, available: 8 });
  });
});
