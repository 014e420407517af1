import { createInventoryService, type InventoryService } from '../../modules/inventory';
import { createParcelService, splitIntoParcels } from '../../modules/logistics';
import { DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';
import { countRoundTrips } from '../support/round-trips';

/**
 * Per-parcel stock (issue 13): one reservation across two warehouses, each warehouse's part committed
 * (shipped) or released (failed) on its own, idempotently; the reservation follows once nothing is
 * left reserved. And the logistics rows: parcels by version, tracking events once per carrier id.
 */
let env: TestEnv;
let inventory: InventoryService;
beforeAll(async () => {
  env = await createTestEnv();
  inventory = createInventoryService({ pool: env.pool });
  await inventory.upsertWarehouse({ id: 'wh_a', name: 'A', priority: 1 });
  await inventory.upsertWarehouse({ id: 'wh_b', name: 'B', priority: 2 });
});
afterAll(() => env.close());

let counter = 0;
async function order(levels: { a: number; b: number }, quantity: number) {
  counter += 1;
  const skuId = `sku_p${counter}`;
  const orderId = `ord_p${counter}`;
  await inventory.setStock({ skuId, warehouseId: 'wh_a', onHand: levels.a });
  await inventory.setStock({ skuId, warehouseId: 'wh_b', onHand: levels.b });
  const reservationKey = `${orderId}:reserve-stock`;
  await inventory.reserve({ idempotencyKey: reservationKey, orderId, lines: [{ skuId, quantity }] });
  return { skuId, orderId, reservationKey };
}
const levelsOf = async (skuId: string) => (await inventory.getStock(skuId)).warehouses.map((w) => [w.warehouseId, w.onHand, w.reserved]);
const statusOf = async (key: string) => (await env.pool.query('SELECT status FROM inventory.reservations WHERE key = $1', [key])).rows[0].status;

test('a split reservation: one warehouse shipped, the other failed; each once, the reservation COMMITTED at the end', async () => {
  const { skuId, orderId, reservationKey } = await order({ a: 3, b: 3 }, 5); // neither has 5 whole: 3 from wh_a, 2 from wh_b
  const shares = await inventory.sharesOfReservation(reservationKey);
  expect(shares.map((share) => [share.warehouseId, share.allocations.map((a) => a.quantity)])).toEqual([['wh_a', [3]], ['wh_b', [2]]]);
  const parcels = splitIntoParcels({ orderId, lines: [{ lineId: 'L1', skuId, quantity: 5 }], shares });
  expect(parcels.map((p) => [p.parcelId, p.warehouseId, p.items])).toEqual([
    [`${orderId}-p1`, 'wh_a', [{ lineId: 'L1', skuId, quantity: 3 }]],
    [`${orderId}-p2`, 'wh_b', [{ lineId: 'L1', skuId, quantity: 2 }]],
  ]);

  const commit = { idempotencyKey: `${orderId}-p1:commit-stock`, reservationKey, warehouseId: 'wh_a' };
  await inventory.commitParcelStock(commit);
  await inventory.commitParcelStock(commit); // a retry: the same effect once
  expect(await levelsOf(skuId)).toEqual([['wh_a', 0, 0], ['wh_b', 3, 2]]);
  expect(await statusOf(reservationKey)).toBe('RESERVED');

  const release = { idempotencyKey: `${orderId}-p2:release-stock`, reservationKey, warehouseId: 'wh_b' };
  await inventory.releaseParcelStock(release);
  await inventory.releaseParcelStock(release);
  expect(await levelsOf(skuId)).toEqual([['wh_a', 0, 0], ['wh_b', 3, 0]]);
  expect(await statusOf(reservationKey)).toBe('COMMITTED');
  // Returns can bring back only what left wh_a.
  await expect(inventory.restock({ idempotencyKey: `${orderId}:return`, orderId, lines: [{ skuId, quantity: 4 }] })).rejects.toThrow(DomainError);
  await inventory.restock({ idempotencyKey: `${orderId}:return`, orderId, lines: [{ skuId, quantity: 3 }] });
  expect(await levelsOf(skuId)).toEqual([['wh_a', 3, 0], ['wh_b', 3, 0]]);
});

test("a parcel's release, then the whole reservation's release (the order cancelled): each unit given back once", async () => {
  const { skuId, reservationKey } = await order({ a: 2, b: 3 }, 4); // 2 from wh_a, 2 from wh_b
  await inventory.releaseParcelStock({ idempotencyKey: 'x-p1:release-stock', reservationKey, warehouseId: 'wh_a' });
  expect(await levelsOf(skuId)).toEqual([['wh_a', 2, 0], ['wh_b', 3, 2]]);
  await inventory.release({ idempotencyKey: reservationKey });
  expect(await levelsOf(skuId)).toEqual([['wh_a', 2, 0], ['wh_b', 3, 0]]);
  expect(await statusOf(reservationKey)).toBe('RELEASED');
  // Nothing of the warehouse left to ship: refused with a reason.
  const refused = await inventory.commitParcelStock({ idempotencyKey: 'x-p2:commit-stock', reservationKey, warehouseId: 'wh_b' }).catch((error: DomainError) => error);
  expect((refused as DomainError).code).toBe('RESERVATION_RELEASED');
});

test('logistics rows: an older version never replaces a newer one; a carrier event id is recorded once', async () => {
  const parcels = createParcelService({ pool: env.pool });
  const base = { parcelId: 'ord_l-p1', seq: 1, warehouseId: 'wh_a', items: [], payableFen: 100, freightFen: 0, tracking: [] };
  await parcels.recordParcels('ord_l', [{ ...base, status: 'SHIPPED' }], 5);
  await parcels.recordParcels('ord_l', [{ ...base, status: 'PENDING' }], 4);
  expect((await parcels.get('ord_l-p1'))?.status).toBe('SHIPPED');
  const event = { orderId: 'ord_l', parcelId: 'ord_l-p1', eventId: 'evt_1', code: 'IN_TRANSIT' as const, occurredAt: '2026-12-01T10:00:00Z', applied: true };
  expect(await parcels.recordTrackingEvent(event)).toBe(true);
  expect(await parcels.recordTrackingEvent(event)).toBe(false);
  expect(await parcels.trackingOf('ord_l-p1')).toHaveLength(1);
  expect((await parcels.list({ warehouseIds: ['wh_b'] })).map((row) => row.parcelId)).not.toContain('ord_l-p1');
  expect((await parcels.list({ warehouseIds: ['wh_a'], status: 'SHIPPED' })).map((row) => row.parcelId)).toContain('ord_l-p1');
});

const roundTrips = (work: () => Promise<unknown>) => countRoundTrips(work);

test('a reservation and a parcel commit each take two round trips; their writes check their own counts', async () => {
  counter += 1;
  const skuId = `sku_p${counter}`;
  const orderId = `ord_p${counter}`;
  await inventory.setStock({ skuId, warehouseId: 'wh_a', onHand: 2 });
  await inventory.setStock({ skuId, warehouseId: 'wh_b', onHand: 2 });
  const reservationKey = `${orderId}:reserve-stock`;
  // Neither warehouse holds 3 whole: split over both (2 + 1): the claim with the locks, then the writes with the result and COMMIT.
  const reserve = () => inventory.reserve({ idempotencyKey: reservationKey, orderId, lines: [{ skuId, quantity: 3 }] });
  expect(await roundTrips(reserve)).toBe(2);
  expect(await levelsOf(skuId)).toEqual([['wh_a', 2, 2], ['wh_b', 2, 1]]);
  expect(await statusOf(reservationKey)).toBe('RESERVED');
  expect((await reserve()).allocations).toEqual([
    { skuId, warehouseId: 'wh_a', quantity: 2 },
    { skuId, warehouseId: 'wh_b', quantity: 1 },
  ]);
  expect(await levelsOf(skuId)).toEqual([['wh_a', 2, 2], ['wh_b', 2, 1]]);

  const commitA = () => inventory.commitParcelStock({ idempotencyKey: `${orderId}-p1:commit-stock`, reservationKey, warehouseId: 'wh_a' });
  expect(await roundTrips(commitA)).toBe(2);
  expect(await levelsOf(skuId)).toEqual([['wh_a', 0, 0], ['wh_b', 2, 1]]);
  expect(await statusOf(reservationKey)).toBe('RESERVED');
  expect(await roundTrips(() => inventory.commitParcelStock({ idempotencyKey: `${orderId}-p2:commit-stock`, reservationKey, warehouseId: 'wh_b' }))).toBe(2);
  expect(await levelsOf(skuId)).toEqual([['wh_a', 0, 0], ['wh_b', 1, 0]]);
  expect(await statusOf(reservationKey)).toBe('COMMITTED');
  const shipped = await env.pool.query('SELECT warehouse_id, shipped FROM inventory.shipments WHERE order_id = $1 ORDER BY warehouse_id', [orderId]);
  expect(shipped.rows).toEqual([{ warehouse_id: 'wh_a', shipped: 2 }, { warehouse_id: 'wh_b', shipped: 1 }]);

  // The check those writes carry: rows written other than meant raise, which rolls the transaction back.
  await expect(env.pool.query("SELECT inventory.expect_rows('stock of a test', 2, 1)")).rejects.toThrow(/stock of a test changed under its lock \(1 of 2 rows written\)/);
  await expect(env.pool.query("SELECT inventory.expect_rows('stock of a test', 2, NULL)")).rejects.toThrow(/changed under its lock/);
  expect((await env.pool.query("SELECT inventory.expect_rows('stock of a test', 2, 2) AS ok")).rows).toEqual([{ ok: '' }]);
});
