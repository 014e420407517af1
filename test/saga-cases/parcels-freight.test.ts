import { API_KEYS } from '../support/api';
import { setFreightTemplate } from '../support/fixtures';
import { caseTimeouts, useCase } from './kit';
import { EAST, parcelSteps, type ParcelledOrder } from './parcel-kit';

/**
 * Issue 13: one parcel's shipment failure refunds its lines and its share of the freight, to the fen.
 * The freight is split over the parcels in proportion to their goods, rounded down, the remainder
 * to the last parcel (workflows/order/parcels.ts freightShares); the other parcel keeps its share.
 * Its own file: the freight template is the shop's default, for every order of this database.
 */
jest.setTimeout(180_000);

const kit = useCase(caseTimeouts({ autoConfirmDeliveryMs: 120_000 }));
const parcels = parcelSteps(kit);

beforeAll(async () => {
  // 10 yuan for the first piece, 5 yuan for each further one; never free.
  await setFreightTemplate(kit.env().pool, {
    templateId: 'tpl_piece',
    name: '按件',
    basis: 'PIECE',
    firstUnits: 1,
    firstFen: 1_000,
    additionalUnits: 1,
    additionalFen: 500,
    regions: [],
  });
});

test("a parcel that fails refunds its lines and its freight share; the delivered parcel's share is kept", async () => {
  const { memberId, mainSku, eastSku } = await parcels.twoWarehouseShop();
  // Goods 2 × 100 + 1 × 50 = 250 yuan; 3 pieces → freight 10 + 2 × 5 = 20 yuan; paid 270 yuan.
  const placed = await kit.placePaid(memberId, { lines: [{ skuId: mainSku, quantity: 2 }, { skuId: eastSku, quantity: 1 }] });
  expect(placed.totals).toMatchObject({ freightFen: 2_000, payableFen: 27_000, paidFen: 27_000 });
  const order = await parcels.withParcels(memberId, placed.orderId, 2);
  const [p1, p2] = [parcels.parcel(order, 1), parcels.parcel(order, 2)];
  // 2,000 × 200/250 = 1,600 for the main warehouse's parcel; the remainder, 400, for the east one.
  expect([p1.payableFen, p1.freightFen, p2.payableFen, p2.freightFen]).toEqual([20_000, 1_600, 5_000, 400]);

  expect((await parcels.shipParcel(p1.parcelId)).status).toBe(200);
  const failed = await parcels.parcelFailed(p2.parcelId, 'the east warehouse lost it', API_KEYS.eastWarehouse);
  expect(failed.status).toBe(200);
  const after = failed.body as ParcelledOrder;
  expect(parcels.parcel(after, 2)).toMatchObject({ status: 'FAILED', failure: { refundedFen: 5_400 } });
  expect(after.totals.refundedFen).toBe(5_400);

  // One refund of exactly the parcel's goods and freight share, at the provider, in finance and in the ledger.
  expect(await kit.providerTotals(order.orderId)).toEqual({ capturedFen: 27_000, refundedFen: 5_400, refunds: 1 });
  expect((await kit.financeRefunds(order.orderId)).map((refund) => [refund.amountFen, refund.state])).toEqual([[5_400, 'SUCCEEDED']]);
  expect((await kit.ledger(order.orderId)).filter((entry) => entry.kind === 'REFUND').map((entry) => entry.amountFen)).toEqual([5_400]);
  expect(await parcels.stockIn(eastSku, EAST)).toEqual({ onHand: 10, reserved: 0 });

  // The delivered parcel completes the order: what is kept is its goods and its freight share.
  expect((await parcels.carrierEvent(p1.parcelId, `${p1.parcelId}-d`, 'DELIVERED', 30)).status).toBe(200);
  const completed = await kit.waitForStatus(memberId, order.orderId, 'COMPLETED');
  expect(completed.totals).toMatchObject({ paidFen: 27_000, refundedFen: 5_400 });
  const revenue = (await kit.ledger(order.orderId)).filter((entry) => entry.kind === 'REVENUE_RECOGNISED').map((entry) => entry.amountFen);
  expect(revenue).toEqual([21_600]);
});
