import type { Pool } from 'pg';
import { createCatalogService } from '../modules/catalog';
import { createInventoryService } from '../modules/inventory';
import { createMarketingService } from '../modules/marketing';
import { createMemberService } from '../modules/member';
import { createAddressService, createFreightService } from '../modules/logistics';

/**
 * The demo shop the README's example requests use: catalogue, stock, members, a coupon, a full-reduction
 * promotion and one campaign of each kind. Idempotent: every record has a fixed id or key,
 * so seeding again (every `npm start` does) changes nothing that is already there.
 */
export async function seedDemoShop(pool: Pool, now = new Date()): Promise<{ aliceCouponId: string }> {
  const catalog = createCatalogService({ pool });
  const inventory = createInventoryService({ pool });
  const member = createMemberService({ pool });
  const marketing = createMarketingService({ pool });

  const products = [
    { id: 'prod_longjing', name: 'West Lake Longjing tea', skus: [{ id: 'sku_longjing_250g', name: 'Longjing 250 g', listPriceFen: 12_800, weightGrams: 300 }] },
    { id: 'prod_teapot', name: 'Yixing clay teapot', skus: [{ id: 'sku_teapot_yixing', name: 'Yixing teapot 300 ml', listPriceFen: 39_900, weightGrams: 900 }] },
    { id: 'prod_mooncake', name: 'Mooncake gift box', skus: [{ id: 'sku_mooncake_box', name: 'Mooncake box of 8', listPriceFen: 26_800, weightGrams: 1_200 }] },
  ];
  await inventory.upsertWarehouse({ id: 'wh_shanghai', name: 'Shanghai', priority: 1 });
  await inventory.upsertWarehouse({ id: 'wh_beijing', name: 'Beijing', priority: 2 });
  for (const product of products) {
    await catalog.upsertProduct({ id: product.id, name: product.name });
    for (const sku of product.skus) {
      await catalog.upsertSku({ ...sku, productId: product.id });
      // receiveStock is keyed: the demo stock arrives once, however often the seed runs.
      await inventory.receiveStock({ idempotencyKey: `seed:${sku.id}:shanghai`, skuId: sku.id, warehouseId: 'wh_shanghai', quantity: 100 });
      await inventory.receiveStock({ idempotencyKey: `seed:${sku.id}:beijing`, skuId: sku.id, warehouseId: 'wh_beijing', quantity: 50 });
      await inventory.setLowStockThreshold({ skuId: sku.id, threshold: 10 });
    }
  }

  await member.createMember({ id: 'mem_alice', name: 'Alice' });
  await member.grantPoints({ idempotencyKey: 'seed:mem_alice:welcome', memberId: 'mem_alice', points: 5_000, reason: 'welcome gift' });
  await member.createMember({ id: 'mem_bob', name: 'Bob' });
  // Default addresses (orders without one ship there) and the shop's freight template: by weight, free
  // from 99 yuan, remote surcharges for Xinjiang and Tibet, no delivery to Hong Kong, Macao and Taiwan.
  const addresses = createAddressService({ pool });
  const demoAddresses = {
    mem_alice: { recipient: 'Alice', mobile: '13800138000', provinceCode: '330000', cityCode: '330100', districtCode: '330106', street: '西湖区龙井路 1 号', postcode: '310013' },
    mem_bob: { recipient: 'Bob', mobile: '13900139000', provinceCode: '110000', cityCode: '110100', districtCode: '110108', street: '海淀区中关村大街 27 号' },
  };
  for (const [memberId, address] of Object.entries(demoAddresses)) {
    if (!(await addresses.defaultFor(memberId))) await addresses.create(memberId, address);
  }
  await createFreightService({ pool }).saveTemplate({
    templateId: 'tpl_demo_weight',
    name: '按重量计费 (demo)',
    basis: 'WEIGHT',
    firstUnits: 1_000,
    firstFen: 800,
    additionalUnits: 1_000,
    additionalFen: 500,
    freeOverFen: 9_900,
    regions: [
      { regionCode: '650000', firstFen: 2_000, additionalFen: 1_500, surchargeFen: 1_000 },
      { regionCode: '540000', firstFen: 2_000, additionalFen: 1_500, surchargeFen: 1_000 },
      { regionCode: '540602', delivers: false },
      { regionCode: '710000', delivers: false },
      { regionCode: '810000', delivers: false },
      { regionCode: '820000', delivers: false },
    ],
  });

  const day = 86_400_000;
  await marketing.createCouponTemplate({
    id: 'tpl_20_off_100',
    name: '20 yuan off from 100 yuan',
    kind: 'AMOUNT_OFF',
    amountFen: 2_000,
    minSpendFen: 10_000,
    validFrom: new Date(now.getTime() - day),
    validUntil: new Date(now.getTime() + 365 * day),
  });
  const coupon = await marketing.issueCoupon({ idempotencyKey: 'seed:tpl_20_off_100:mem_alice', templateId: 'tpl_20_off_100', memberId: 'mem_alice' });
  await marketing.createPromotion({
    id: 'promo_full_reduction',
    name: 'Spend 200 save 20, spend 500 save 60',
    tiers: [
      { thresholdFen: 20_000, discountFen: 2_000 },
      { thresholdFen: 50_000, discountFen: 6_000 },
    ],
    startsAt: new Date(now.getTime() - day),
    endsAt: new Date(now.getTime() + 365 * day),
  });

  // One campaign of each kind, open from the first seed on (a repeat keeps the first definition).
  const hour = 3_600_000;
  await marketing.createCampaign({
    id: 'cmp_flash_teapot',
    name: 'Teapot flash sale',
    kind: 'FLASH_SALE',
    skuId: 'sku_teapot_yixing',
    flashPriceFen: 19_900,
    stockCap: 20,
    perUserLimit: 1,
    startsAt: new Date(now.getTime() - hour),
    endsAt: new Date(now.getTime() + 7 * day),
  });
  await marketing.createCampaign({
    id: 'cmp_group_longjing',
    name: 'Longjing group-buy for 3',
    kind: 'GROUP_BUY',
    skuId: 'sku_longjing_250g',
    groupPriceFen: 9_900,
    groupSize: 3,
    formationWindowMinutes: 24 * 60,
    perUserLimit: 2,
    startsAt: new Date(now.getTime() - hour),
    endsAt: new Date(now.getTime() + 30 * day),
  });
  await marketing.createCampaign({
    id: 'cmp_presale_mooncake',
    name: 'Mooncake presale: pay 50, deduct 100',
    kind: 'PRESALE',
    skuId: 'sku_mooncake_box',
    presalePriceFen: 26_800,
    depositFen: 5_000,
    depositValueFen: 10_000,
    depositStart: new Date(now.getTime() - hour),
    depositEnd: new Date(now.getTime() + 3 * day),
    finalStart: new Date(now.getTime() + 3 * day),
    finalEnd: new Date(now.getTime() + 5 * day),
    depositRefundable: false,
  });
  return { aliceCouponId: coupon.id };
}
