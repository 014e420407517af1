import fc from 'fast-check';
import { ZodError } from 'zod';
import { allocateLine, createInventoryService, type InventoryService } from '../../modules/inventory';
import { AlreadyCompensatedError, DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
let inventory: InventoryService;
let now = new Date('2025-06-01T08:00:00Z');
const idleConnectionErrors: Error[] = [];
beforeAll(async () => {
  env = await createTestEnv();
  // env.close() drops the database WITH (FORCE) while idle connections may still be closing (57P01).
  env.pool.on('error', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') idleConnectionErrors.push(error);
  });
  inventory = createInventoryService({ pool: env.pool, clock: () => now });
  await inventory.upsertWarehouse({ id: 'wh_shanghai', name: 'Shanghai', priority: 1 });
  await inventory.upsertWarehouse({ id: 'wh_beijing', name: 'Beijing', priority: 2 });
  await inventory.upsertWarehouse({ id: 'wh_guangzhou', name: 'Guangzhou', priority: 3 });
});
afterAll(async () => {
  expect(idleConnectionErrors).toEqual([]);
  await env.close();
});

let counter = 0;
/** Each test works on SKUs of its own in this file's database. */
function newSku(): string {
  counter += 1;
  return `sku_t${counter}`;
}

async function stocked(levels: Record<string, number>): Promise<string> {
  const skuId = newSku();
  for (const [warehouseId, onHand] of Object.entries(levels)) await inventory.setStock({ skuId, warehouseId, onHand });
  return skuId;
}

async function domainErrorOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

function perWarehouse(stock: Awaited<ReturnType<InventoryService['getStock']>>) {
  return Object.fromEntries(stock.warehouses.map((w) => [w.warehouseId, [w.onHand, w.reserved]]));
}

describe('reserve', () => {
  test('prefers the first warehouse by priority that can ship the whole line', async () => {
    const skuId = await stocked({ wh_shanghai: 2, wh_beijing: 10, wh_guangzhou: 10 });
    const reservation = await inventory.reserve({ idempotencyKey: 'ord_a1:reserve-stock', orderId: 'ord_a1', lines: [{ skuId, quantity: 5 }] });
    expect(reservation).toEqual({
      reservationKey: 'ord_a1:reserve-stock',
      orderId: 'ord_a1',
      allocations: [{ skuId, warehouseId: 'wh_beijing', quantity: 5 }],
    });
    const stock = await inventory.getStock(skuId);
    expect(perWarehouse(stock)).toEqual({ wh_shanghai: [2, 0], wh_beijing: [10, 5], wh_guangzhou: [10, 0] });
    expect(stock).toMatchObject({ onHand: 22, reserved: 5, available: 17 });
  });

  test('twice with one key: one reservation, the same result, stock reserved once', async () => {
    const skuId = await stocked({ wh_shanghai: 10 });
    const input = { idempotencyKey: 'ord_a2:reserve-stock', orderId: 'ord_a2', lines: [{ skuId, quantity: 3 }] };
    const first = await inventory.reserve(input);
    const second = await inventory.reserve(input);
    expect(second).toEqual(first);
    expect((await inventory.getStock(skuId)).reserved).toBe(3);
    const rows = await env.pool.query(`SELECT count(*)::int AS n FROM inventory.reservations WHERE order_id = 'ord_a2'`);
    expect(rows.rows[0].n).toBe(1);
  });

  test('all or nothing: a short second line refuses the order with OUT_OF_STOCK and leaves the first untouched', async () => {
    const plenty = await stocked({ wh_shanghai: 10 });
    const scarce = await stocked({ wh_shanghai: 1, wh_beijing: 1 });
    const error = await domainErrorOf(
      inventory.reserve({
        idempotencyKey: 'ord_a3:reserve-stock',
        orderId: 'ord_a3',
        lines: [
          { skuId: plenty, quantity: 4 },
          { skuId: scarce, quantity: 3 },
        ],
      }),
    );
    expect(error.code).toBe('OUT_OF_STOCK');
    expect(error.message).toContain(scarce);
    expect(error.details).toEqual({ skuId: scarce, requested: 3, available: 2 });
    expect(await inventory.getStock(plenty)).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
    expect(await inventory.getStock(scarce)).toMatchObject({ onHand: 2, reserved: 0, available: 2 });
    const rows = await env.pool.query(`SELECT count(*)::int AS n FROM inventory.reservations WHERE order_id = 'ord_a3'`);
    expect(rows.rows[0].n).toBe(0);
  });

  test('a SKU without any stock row is out of stock with 0 available', async () => {
    const error = await domainErrorOf(
      inventory.reserve({ idempotencyKey: 'ord_a4:reserve-stock', orderId: 'ord_a4', lines: [{ skuId: newSku(), quantity: 1 }] }),
    );
    expect(error.code).toBe('OUT_OF_STOCK');
    expect(error.details).toMatchObject({ requested: 1, available: 0 });
  });

  test('repeated lines of one SKU are reserved as their sum', async () => {
    const skuId = await stocked({ wh_shanghai: 5 });
    const reservation = await inventory.reserve({
      idempotencyKey: 'ord_a5:reserve-stock',
      orderId: 'ord_a5',
      lines: [
        { skuId, quantity: 2 },
        { skuId, quantity: 3 },
      ],
    });
    expect(reservation.allocations).toEqual([{ skuId, warehouseId: 'wh_shanghai', quantity: 5 }]);
    expect((await inventory.getStock(skuId)).available).toBe(0);
  });

  test('zod rejects zero, negative and fractional quantities and an empty order', async () => {
    const skuId = await stocked({ wh_shanghai: 5 });
    for (const quantity of [0, -1, 1.5]) {
      await expect(inventory.reserve({ idempotencyKey: `bad-${quantity}`, orderId: 'ord_bad', lines: [{ skuId, quantity }] })).rejects.toBeInstanceOf(ZodError);
    }
    await expect(inventory.reserve({ idempotencyKey: 'bad-empty', orderId: 'ord_bad', lines: [] })).rejects.toBeInstanceOf(ZodError);
    expect((await inventory.getStock(skuId)).reserved).toBe(0);
  });
});

describe('split across warehouses', () => {
  test('a line no single warehouse can ship is split by priority, and release returns each part to its warehouse', async () => {
    const skuId = await stocked({ wh_shanghai: 3, wh_beijing: 4, wh_guangzhou: 5 });
    const reservation = await inventory.reserve({ idempotencyKey: 'ord_b1:reserve-stock', orderId: 'ord_b1', lines: [{ skuId, quantity: 10 }] });
    expect(reservation.allocations).toEqual([
      { skuId, warehouseId: 'wh_shanghai', quantity: 3 },
      { skuId, warehouseId: 'wh_beijing', quantity: 4 },
      { skuId, warehouseId: 'wh_guangzhou', quantity: 3 },
    ]);
    expect(perWarehouse(await inventory.getStock(skuId))).toEqual({ wh_shanghai: [3, 3], wh_beijing: [4, 4], wh_guangzhou: [5, 3] });

    // Another order takes Guangzhou's last units, so a wrong release would show up.
    await inventory.reserve({ idempotencyKey: 'ord_b2:reserve-stock', orderId: 'ord_b2', lines: [{ skuId, quantity: 2 }] });
    const released = await inventory.release({ idempotencyKey: 'ord_b1:reserve-stock' });
    expect(released.outcome).toBe('undone');
    expect(perWarehouse(await inventory.getStock(skuId))).toEqual({ wh_shanghai: [3, 0], wh_beijing: [4, 0], wh_guangzhou: [5, 2] });
  });

  test('property: allocations cover the line exactly, never exceed a warehouse, and use one warehouse when one can', () => {
    const warehouses = fc.uniqueArray(
      fc.record({ warehouseId: fc.constantFrom('w1', 'w2', 'w3', 'w4', 'w5'), priority: fc.integer({ min: 0, max: 3 }), available: fc.integer({ min: 0, max: 20 }) }),
      { selector: (w) => w.warehouseId, maxLength: 5 },
    );
    fc.assert(
      fc.property(warehouses, fc.integer({ min: 1, max: 60 }), (candidates, quantity) => {
        const total = candidates.reduce((sum, w) => sum + w.available, 0);
        if (total < quantity) {
          expect(() => allocateLine('sku', quantity, candidates)).toThrow(DomainError);
          return;
        }
        const allocations = allocateLine('sku', quantity, candidates);
        expect(allocations.reduce((sum, a) => sum + a.quantity, 0)).toBe(quantity);
        for (const allocation of allocations) {
          expect(allocation.quantity).toBeGreaterThan(0);
          expect(allocation.quantity).toBeLessThanOrEqual(candidates.find((w) => w.warehouseId === allocation.warehouseId)!.available);
        }
        expect(new Set(allocations.map((a) => a.warehouseId)).size).toBe(allocations.length);
        if (candidates.some((w) => w.available >= quantity)) expect(allocations).toHaveLength(1);
      }),
    );
  });
});

describe('release (compensation of reserve)', () => {
  test('undoes the reservation once; a second release changes nothing', async () => {
    const skuId = await stocked({ wh_shanghai: 10 });
    await inventory.reserve({ idempotencyKey: 'ord_c1:reserve-stock', orderId: 'ord_c1', lines: [{ skuId, quantity: 4 }] });
    const first = await inventory.release({ idempotencyKey: 'ord_c1:reserve-stock' });
    expect(first.outcome).toBe('undone');
    expect(first.result?.allocations).toEqual([{ skuId, warehouseId: 'wh_shanghai', quantity: 4 }]);
    expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
    const second = await inventory.release({ idempotencyKey: 'ord_c1:reserve-stock' });
    expect(second.outcome).toBe('already');
    expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
  });

  test('with a key never reserved is a no-op, and a late reserve with that key is refused', async () => {
    const skuId = await stocked({ wh_shanghai: 10 });
    const nothing = await inventory.release({ idempotencyKey: 'ord_c2:reserve-stock' });
    expect(nothing.outcome).toBe('nothing');
    expect(await inventory.getStock(skuId)).toMatchObject({ reserved: 0, available: 10 });
    await expect(
      inventory.reserve({ idempotencyKey: 'ord_c2:reserve-stock', orderId: 'ord_c2', lines: [{ skuId, quantity: 1 }] }),
    ).rejects.toBeInstanceOf(AlreadyCompensatedError);
    expect((await inventory.getStock(skuId)).reserved).toBe(0);
  });

  test('reserve after release with the same key is refused (no resurrection)', async () => {
    const skuId = await stocked({ wh_shanghai: 10 });
    const input = { idempotencyKey: 'ord_c3:reserve-stock', orderId: 'ord_c3', lines: [{ skuId, quantity: 2 }] };
    await inventory.reserve(input);
    await inventory.release({ idempotencyKey: input.idempotencyKey });
    await expect(inventory.reserve(input)).rejects.toBeInstanceOf(AlreadyCompensatedError);
    expect((await inventory.getStock(skuId)).reserved).toBe(0);
  });

  test('after commit is refused: shipped goods come back through restock', async () => {
    const skuId = await stocked({ wh_shanghai: 10 });
    await inventory.reserve({ idempotencyKey: 'ord_c4:reserve-stock', orderId: 'ord_c4', lines: [{ skuId, quantity: 2 }] });
    await inventory.commit({ idempotencyKey: 'ord_c4:commit-stock', reservationKey: 'ord_c4:reserve-stock' });
    expect((await domainErrorOf(inventory.release({ idempotencyKey: 'ord_c4:reserve-stock' }))).code).toBe('RESERVATION_COMMITTED');
    expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 8, reserved: 0 });
  });
});

describe('commit', () => {
  test('deducts on hand and reserved once, however often it is called', async () => {
    const skuId = await stocked({ wh_shanghai: 2, wh_beijing: 5 });
    await inventory.reserve({ idempotencyKey: 'ord_d1:reserve-stock', orderId: 'ord_d1', lines: [{ skuId, quantity: 6 }] });
    const input = { idempotencyKey: 'ord_d1:commit-stock', reservationKey: 'ord_d1:reserve-stock' };
    const first = await inventory.commit(input);
    const second = await inventory.commit(input);
    expect(second).toEqual(first);
    expect(first.allocations).toEqual([
      { skuId, warehouseId: 'wh_beijing', quantity: 4 },
      { skuId, warehouseId: 'wh_shanghai', quantity: 2 },
    ]);
    expect(perWarehouse(await inventory.getStock(skuId))).toEqual({ wh_shanghai: [0, 0], wh_beijing: [1, 0] });
  });

  test('of a released reservation is refused and changes nothing', async () => {
    const skuId = await stocked({ wh_shanghai: 5 });
    await inventory.reserve({ idempotencyKey: 'ord_d2:reserve-stock', orderId: 'ord_d2', lines: [{ skuId, quantity: 1 }] });
    await inventory.release({ idempotencyKey: 'ord_d2:reserve-stock' });
    const error = await domainErrorOf(inventory.commit({ idempotencyKey: 'ord_d2:commit-stock', reservationKey: 'ord_d2:reserve-stock' }));
    expect(error.code).toBe('RESERVATION_RELEASED');
    expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 5, reserved: 0 });
  });

  test('of an unknown reservation, or a second commit under another key, is refused', async () => {
    expect((await domainErrorOf(inventory.commit({ idempotencyKey: 'x:commit', reservationKey: 'nope:reserve-stock' }))).code).toBe('RESERVATION_NOT_FOUND');
    const skuId = await stocked({ wh_shanghai: 5 });
    await inventory.reserve({ idempotencyKey: 'ord_d3:reserve-stock', orderId: 'ord_d3', lines: [{ skuId, quantity: 1 }] });
    await inventory.commit({ idempotencyKey: 'ord_d3:commit-stock', reservationKey: 'ord_d3:reserve-stock' });
    const again = await domainErrorOf(inventory.commit({ idempotencyKey: 'ord_d3:commit-again', reservationKey: 'ord_d3:reserve-stock' }));
    expect(again.code).toBe('RESERVATION_COMMITTED');
    expect((await inventory.getStock(skuId)).onHand).toBe(4);
  });
});

describe('restock (returns)', () => {
  async function shipped(orderId: string, levels: Record<string, number>, quantity: number): Promise<string> {
    const skuId = await stocked(levels);
    await inventory.reserve({ idempotencyKey: `${orderId}:reserve-stock`, orderId, lines: [{ skuId, quantity }] });
    await inventory.commit({ idempotencyKey: `${orderId}:commit-stock`, reservationKey: `${orderId}:reserve-stock` });
    return skuId;
  }

  test('puts returned units back into the warehouses they shipped from, once per key', async () => {
    const skuId = await shipped('ord_e1', { wh_shanghai: 2, wh_beijing: 3 }, 5);
    expect(perWarehouse(await inventory.getStock(skuId))).toEqual({ wh_shanghai: [0, 0], wh_beijing: [0, 0] });
    const input = { idempotencyKey: 'ord_e1:return-1', orderId: 'ord_e1', lines: [{ skuId, quantity: 4 }] };
    const first = await inventory.restock(input);
    const second = await inventory.restock(input);
    expect(second).toEqual(first);
    expect(first.allocations).toEqual([
      { skuId, warehouseId: 'wh_beijing', quantity: 2 },
      { skuId, warehouseId: 'wh_shanghai', quantity: 2 },
    ]);
    expect(perWarehouse(await inventory.getStock(skuId))).toEqual({ wh_shanghai: [2, 0], wh_beijing: [2, 0] });
  });

  test('never brings back more than was shipped for the order and SKU, across several returns', async () => {
    const skuId = await shipped('ord_e2', { wh_shanghai: 10 }, 3);
    await inventory.restock({ idempotencyKey: 'ord_e2:return-1', orderId: 'ord_e2', lines: [{ skuId, quantity: 2 }] });
    const error = await domainErrorOf(inventory.restock({ idempotencyKey: 'ord_e2:return-2', orderId: 'ord_e2', lines: [{ skuId, quantity: 2 }] }));
    expect(error.code).toBe('RESTOCK_EXCEEDS_SHIPPED');
    expect(error.details).toEqual({ orderId: 'ord_e2', skuId, requested: 2, returnable: 1 });
    await inventory.restock({ idempotencyKey: 'ord_e2:return-3', orderId: 'ord_e2', lines: [{ skuId, quantity: 1 }] });
    expect((await inventory.getStock(skuId)).onHand).toBe(10);
  });

  test('refuses a return for an order that never shipped (reserved only) or another order', async () => {
    const skuId = await stocked({ wh_shanghai: 10 });
    await inventory.reserve({ idempotencyKey: 'ord_e3:reserve-stock', orderId: 'ord_e3', lines: [{ skuId, quantity: 2 }] });
    expect((await domainErrorOf(inventory.restock({ idempotencyKey: 'ord_e3:return', orderId: 'ord_e3', lines: [{ skuId, quantity: 1 }] }))).code).toBe(
      'RESTOCK_EXCEEDS_SHIPPED',
    );
    expect(await inventory.getStock(skuId)).toMatchObject({ onHand: 10, reserved: 2 });
  });

  test('parallel returns of one order never exceed what shipped', async () => {
    const skuId = await shipped('ord_e4', { wh_shanghai: 5 }, 5);
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, (_, index) =>
        inventory.restock({ idempotencyKey: `ord_e4:return-${index}`, orderId: 'ord_e4', lines: [{ skuId, quantity: 1 }] }),
      ),
    );
    expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(5);
    expect((await inventory.getStock(skuId)).onHand).toBe(5);
  });
});

describe('admin', () => {
  test('setStock cannot go below what is reserved', async () => {
    const skuId = await stocked({ wh_shanghai: 10 });
    await inventory.reserve({ idempotencyKey: 'ord_f1:reserve-stock', orderId: 'ord_f1', lines: [{ skuId, quantity: 6 }] });
    const error = await domainErrorOf(inventory.setStock({ skuId, warehouseId: 'wh_shanghai', onHand: 5 }));
    expect(error.code).toBe('STOCK_BELOW_RESERVED');
    expect(await inventory.setStock({ skuId, warehouseId: 'wh_shanghai', onHand: 6 })).toMatchObject({ onHand: 6, reserved: 6, available: 0 });
  });

  test('setStock into an unknown warehouse is refused', async () => {
    expect((await domainErrorOf(inventory.setStock({ skuId: newSku(), warehouseId: 'wh_moon', onHand: 1 }))).code).toBe('WAREHOUSE_NOT_FOUND');
  });

  test('receiveStock adds units once per key', async () => {
    const skuId = await stocked({ wh_beijing: 1 });
    const input = { idempotencyKey: 'po_1:receive', skuId, warehouseId: 'wh_beijing', quantity: 5 };
    await inventory.receiveStock(input);
    expect((await inventory.receiveStock(input)).onHand).toBe(6);
  });

  test('the database refuses reserved above on hand or negative stock (CHECK)', async () => {
    const skuId = await stocked({ wh_shanghai: 1 });
    await expect(env.pool.query(`UPDATE inventory.stock SET reserved = 2 WHERE sku_id = $1`, [skuId])).rejects.toThrow(/check constraint/);
    await expect(env.pool.query(`UPDATE inventory.stock SET on_hand = -1, reserved = 0 WHERE sku_id = $1`, [skuId])).rejects.toThrow(/check constraint/);
  });
});

describe('low-stock alerts', () => {
  test('one alert when available crosses below the threshold, listable and acknowledgeable', async () => {
    const skuId = await stocked({ wh_shanghai: 10 });
    await inventory.setLowStockThreshold({ skuId, threshold: 5 });
    const mine = async (includeAcknowledged = false) =>
      (await inventory.listLowStockAlerts({ includeAcknowledged })).filter((alert) => alert.skuId === skuId);

    await inventory.reserve({ idempotencyKey: 'ord_g1:reserve-stock', orderId: 'ord_g1', lines: [{ skuId, quantity: 5 }] });
    expect(await mine()).toEqual([]); // 5 available: not under 5

    now = new Date('2025-06-01T09:00:00Z');
    await inventory.reserve({ idempotencyKey: 'ord_g2:reserve-stock', orderId: 'ord_g2', lines: [{ skuId, quantity: 1 }] });
    await inventory.reserve({ idempotencyKey: 'ord_g3:reserve-stock', orderId: 'ord_g3', lines: [{ skuId, quantity: 1 }] });
    await inventory.commit({ idempotencyKey: 'ord_g2:commit-stock', reservationKey: 'ord_g2:reserve-stock' });
    const open = await mine();
    expect(open).toEqual([
      { id: expect.any(String), skuId, available: 4, threshold: 5, createdAt: '2025-06-01T09:00:00.000Z', acknowledgedAt: null },
    ]);

    now = new Date('2025-06-01T10:00:00Z');
    const acknowledged = await inventory.acknowledgeAlert(open[0].id);
    expect(acknowledged.acknowledgedAt).toBe('2025-06-01T10:00:00.000Z');
    expect((await inventory.acknowledgeAlert(open[0].id)).acknowledgedAt).toBe('2025-06-01T10:00:00.000Z');
    expect(await mine()).toEqual([]);

    // Still low: no new alert. Recovered and fell again: a new one.
    await inventory.reserve({ idempotencyKey: 'ord_g4:reserve-stock', orderId: 'ord_g4', lines: [{ skuId, quantity: 1 }] });
    expect(await mine()).toEqual([]);
    await inventory.setStock({ skuId, warehouseId: 'wh_shanghai', onHand: 20 }); // 20 on hand - 7 reserved = 13
    await inventory.reserve({ idempotencyKey: 'ord_g5:reserve-stock', orderId: 'ord_g5', lines: [{ skuId, quantity: 9 }] });
    expect((await mine()).map((alert) => alert.available)).toEqual([4]);
    expect(await mine(true)).toHaveLength(2);
  });

  test('at most one open alert per SKU, enforced by the database', async () => {
    const skuId = newSku();
    await env.pool.query(`INSERT INTO inventory.low_stock_alerts (sku_id, available, threshold, created_at) VALUES ($1, 1, 5, now())`, [skuId]);
    await expect(
      env.pool.query(`INSERT INTO inventory.low_stock_alerts (sku_id, available, threshold, created_at) VALUES ($1, 0, 5, now())`, [skuId]),
    ).rejects.toThrow(/duplicate key/);
  });

  test('raising the threshold above the current level opens an alert; acknowledging an unknown alert is refused', async () => {
    const skuId = await stocked({ wh_beijing: 3 });
    await inventory.setLowStockThreshold({ skuId, threshold: 10 });
    const alerts = (await inventory.listLowStockAlerts()).filter((alert) => alert.skuId === skuId);
    expect(alerts.map((alert) => [alert.available, alert.threshold])).toEqual([[3, 10]]);
    expect((await domainErrorOf(inventory.acknowledgeAlert('999999'))).code).toBe('ALERT_NOT_FOUND');
  });
});
