import { seedDemoShop } from '../../scripts/seed-data';
import { services } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

test('the demo shop seeds once: seeding again (every npm start) changes nothing', async () => {
  const first = await seedDemoShop(env.pool);
  const second = await seedDemoShop(env.pool);
  expect(second.aliceCouponId).toBe(first.aliceCouponId);

  const { catalog, inventory, member, marketing } = services(env.pool);
  expect((await catalog.getSkus(['sku_longjing_250g', 'sku_teapot_yixing', 'sku_mooncake_box'])).map((sku) => sku.listPriceFen)).toEqual([
    12_800, 39_900, 26_800,
  ]);
  expect(await inventory.getStock('sku_longjing_250g')).toMatchObject({ onHand: 150, reserved: 0 });
  expect((await member.getMember('mem_alice')).points).toEqual({ available: 5_000, pending: 0, held: 0 });
  expect((await marketing.findCoupon(first.aliceCouponId))?.state).toBe('AVAILABLE');
  expect((await marketing.listCoupons('mem_alice')).length).toBe(1);
  expect((await marketing.listCampaigns()).map((campaign) => campaign.kind).sort()).toEqual(['FLASH_SALE', 'GROUP_BUY', 'PRESALE']);
});
