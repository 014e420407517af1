import { allArrived, allReported, anyShipped, canMoveParcel, carrierEventTarget, freightShares, nothingRemains, parcelStatuses, priceParcels } from '../../workflows/order/parcels';
import type { OrderLineView } from '../../workflows/order/definitions';
import type { ParcelStatus, ParcelView } from '../../workflows/order/parcel-definitions';

/** The parcel state machine and the parcel arithmetic (workflows/order/parcels.ts), as tables. */
function parcel(status: ParcelStatus, extra: Partial<ParcelView> = {}): ParcelView {
  return { parcelId: 'ord_1-p1', seq: 1, warehouseId: 'wh_a', status, items: [], payableFen: 0, freightFen: 0, tracking: [], ...extra };
}

describe('transitions', () => {
  test('final states lead nowhere; PENDING only ships or fails', () => {
    for (const from of ['DELIVERED', 'RETURNED', 'FAILED'] as const) for (const to of parcelStatuses) expect(canMoveParcel(from, to)).toBe(false);
    expect(parcelStatuses.filter((to) => canMoveParcel('PENDING', to))).toEqual(['SHIPPED', 'FAILED']);
    expect(canMoveParcel('SHIPPED', 'FAILED')).toBe(false);
    expect(canMoveParcel('OUT_FOR_DELIVERY', 'IN_TRANSIT')).toBe(false);
    expect(canMoveParcel('EXCEPTION', 'IN_TRANSIT')).toBe(true);
  });

  test.each([
    ['SHIPPED', 'PICKED_UP', undefined],
    ['SHIPPED', 'IN_TRANSIT', 'IN_TRANSIT'],
    ['IN_TRANSIT', 'OUT_FOR_DELIVERY', 'OUT_FOR_DELIVERY'],
    ['OUT_FOR_DELIVERY', 'IN_TRANSIT', undefined],
    ['IN_TRANSIT', 'DELIVERED', 'DELIVERED'],
    ['DELIVERED', 'IN_TRANSIT', undefined],
    ['DELIVERED', 'EXCEPTION', undefined],
    ['IN_TRANSIT', 'EXCEPTION', 'EXCEPTION'],
    ['EXCEPTION', 'IN_TRANSIT', 'IN_TRANSIT'],
    ['EXCEPTION', 'DELIVERED', 'DELIVERED'],
    ['OUT_FOR_DELIVERY', 'RETURNED_TO_SENDER', 'RETURNED'],
    ['RETURNED', 'DELIVERED', undefined],
  ] as const)('a %s parcel and a %s event → %s', (status, code, to) => {
    expect(carrierEventTarget(parcel(status), { code, occurredAt: '2026-12-01T10:00:00Z' })).toBe(to);
  });

  test('an event older than the last one that moved the parcel moves nothing', () => {
    const moved = parcel('IN_TRANSIT', { lastMovedAt: '2026-12-01T10:00:00Z' });
    expect(carrierEventTarget(moved, { code: 'EXCEPTION', occurredAt: '2026-12-01T09:00:00Z' })).toBeUndefined();
    expect(carrierEventTarget(moved, { code: 'EXCEPTION', occurredAt: '2026-12-01T11:00:00Z' })).toBe('EXCEPTION');
  });

  test('the order as a whole: reported, shipped, arrived, nothing remains', () => {
    const parcels = [parcel('DELIVERED'), parcel('PENDING')];
    expect([allReported(parcels), anyShipped(parcels), allArrived(parcels)]).toEqual([false, true, false]);
    expect(allArrived([parcel('DELIVERED'), parcel('FAILED'), parcel('RETURNED')])).toBe(true);
    expect(allArrived([parcel('DELIVERED'), parcel('EXCEPTION')])).toBe(false);
    expect(nothingRemains([parcel('FAILED'), parcel('FAILED')])).toBe(true);
    expect(anyShipped([parcel('FAILED'), parcel('PENDING')])).toBe(false);
  });
});

describe('money', () => {
  test('freight is split by payable, rounded down to the fen, the remainder to the last parcel', () => {
    expect(freightShares(1_000, [20_000, 10_000])).toEqual([666, 334]);
    expect(freightShares(1_001, [1, 1, 1])).toEqual([333, 333, 335]);
    expect(freightShares(0, [5_000, 5_000])).toEqual([0, 0]);
    expect(freightShares(800, [0, 0])).toEqual([0, 800]);
    expect(freightShares(800, [])).toEqual([]);
  });

  test("parcels take a line's units in parcel order, priced as refunds price them", () => {
    const line = (lineId: string, skuId: string, quantity: number, payableFen: number) => ({ lineId, skuId, quantity, payableFen }) as OrderLineView;
    const lines = [line('L1', 'sku_a', 3, 10_000), line('L2', 'sku_b', 1, 5_000)];
    const parcels = priceParcels(
      [
        { parcelId: 'o-p2', seq: 2, warehouseId: 'wh_b', items: [{ lineId: 'L1', skuId: 'sku_a', quantity: 1 }] },
        { parcelId: 'o-p1', seq: 1, warehouseId: 'wh_a', items: [{ lineId: 'L1', skuId: 'sku_a', quantity: 2 }, { lineId: 'L2', skuId: 'sku_b', quantity: 1 }] },
      ],
      lines,
      1_000,
    );
    // 10,000 over 3 units: 3,334 + 3,333 + 3,333; parcel 1 takes the first two.
    expect(parcels.map((p) => [p.parcelId, p.payableFen, p.freightFen, p.status])).toEqual([
      ['o-p1', 6_667 + 5_000, 777, 'PENDING'],
      ['o-p2', 3_333, 223, 'PENDING'],
    ]);
  });
});
