import type { Pool } from 'pg';
import { createCatalogService } from '../../modules/catalog';
import { createInventoryService } from '../../modules/inventory';
import { createAddressService, createFreightService, type FreightTemplateInput, type ShippingAddress } from '../../modules/logistics';
import { createMarketingService } from '../../modules/marketing';
import { createMemberService } from '../../modules/member';

/**
 * The shop a saga test needs, set up through the modules' own services (never by writing their
 * tables): a SKU with a list price and stock, a member with points, a coupon, a full-reduction promotion.
 */
export function services(pool: Pool) {
  return {
    catalog: createCatalogService({ pool }),
    inventory: createInventoryService({ pool }),
    member: createMemberService({ pool }),
    marketing: createMarketingService({ pool }),
    addresses: createAddressService({ pool }),
    freight: createFreightService({ pool }),
  };
}

/** A Shanghai address (徐汇区); every test member has it as their default, so placements need not name one. */
export const TEST_ADDRESS: ShippingAddress = {
  recipient: '张三',
  mobile: '13912345678',
  provinceCode: '310000',
  cityCode: '310100',
  districtCode: '310104',
  street: '漕溪北路 88 号 1201 室',
  postcode: '200030',
};

/** The shop's default freight template (freight is 0 until a test sets one). */
export async function setFreightTemplate(pool: Pool, template: FreightTemplateInput): Promise<void> {
  await services(pool).freight.saveTemplate(template);
}

export async function addSku(pool: Pool, skuId: string, listPriceFen: number, onHand: number, weightGrams = 0): Promise<void> {
  const { catalog, inventory } = services(pool);
  await catalog.upsertProduct({ id: `prod_${skuId}`, name: `Product ${skuId}` });
  await catalog.upsertSku({ id: skuId, productId: `prod_${skuId}`, name: `SKU ${skuId}`, listPriceFen, weightGrams });
  await inventory.upsertWarehouse({ id: 'wh_main', name: 'Main warehouse', priority: 1 });
  await inventory.setStock({ skuId, warehouseId: 'wh_main', onHand });
}

export async function addMember(pool: Pool, memberId: string, points = 0): Promise<void> {
  const { member, addresses } = services(pool);
  await member.createMember({ id: memberId, name: `Member ${memberId}` });
  if (!(await addresses.defaultFor(memberId))) await addresses.create(memberId, TEST_ADDRESS);
  if (points > 0) await member.grantPoints({ idempotencyKey: `${memberId}:welcome`, memberId, points, reason: 'welcome gift' });
}

/** Issues an amount-off coupon valid from yesterday for `validDays` days; returns the coupon id. */
export async function issueAmountOffCoupon(
  pool: Pool,
  memberId: string,
  amountFen: number,
  options: { minSpendFen?: number; templateId?: string; validDays?: number } = {},
): Promise<string> {
  const { marketing } = services(pool);
  const templateId = options.templateId ?? `tpl_${amountFen}_${options.minSpendFen ?? 0}`;
  const from = new Date(Date.now() - 86_400_000);
  await marketing.createCouponTemplate({
    id: templateId,
    name: `${amountFen / 100} yuan off`,
    kind: 'AMOUNT_OFF',
    amountFen,
    minSpendFen: options.minSpendFen ?? 0,
    validFrom: from,
    validUntil: new Date(from.getTime() + (options.validDays ?? 30) * 86_400_000),
  });
  const coupon = await marketing.issueCoupon({ idempotencyKey: `${templateId}:${memberId}:${Date.now()}`, templateId, memberId });
  return coupon.id;
}

export async function addFullReduction(pool: Pool, id: string, tiers: { thresholdFen: number; discountFen: number }[]) {
  const { marketing } = services(pool);
  const now = Date.now();
  await marketing.createPromotion({ id, name: `Full reduction ${id}`, tiers, startsAt: new Date(now - 3_600_000), endsAt: new Date(now + 30 * 86_400_000) });
}
