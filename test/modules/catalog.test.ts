import { ApplicationFailure } from '@temporalio/common';
import { ZodError } from 'zod';
import { createCatalogActivities } from '../../activities/catalog';
import { createCatalogService, type CatalogService } from '../../modules/catalog';
import { DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
let catalog: CatalogService;
beforeAll(async () => {
  env = await createTestEnv();
  catalog = createCatalogService({ pool: env.pool });
  await catalog.upsertProduct({ id: 'prod_tea', name: 'Longjing tea' });
  await catalog.upsertSku({ id: 'sku_tea_250g', productId: 'prod_tea', name: 'Longjing 250 g', listPriceFen: 12_800 });
  await catalog.upsertSku({ id: 'sku_tea_500g', productId: 'prod_tea', name: 'Longjing 500 g', listPriceFen: 23_900 });
  await catalog.upsertSku({ id: 'sku_tea_old', productId: 'prod_tea', name: 'Last year', listPriceFen: 5_000, active: false });
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

test('getSkus returns list prices in fen and CNY, in the order asked, each SKU once', async () => {
  const skus = await catalog.getSkus(['sku_tea_500g', 'sku_tea_250g', 'sku_tea_500g']);
  expect(skus).toEqual([
    { id: 'sku_tea_500g', productId: 'prod_tea', name: 'Longjing 500 g', listPriceFen: 23_900, currency: 'CNY', active: true, weightGrams: 0 },
    { id: 'sku_tea_250g', productId: 'prod_tea', name: 'Longjing 250 g', listPriceFen: 12_800, currency: 'CNY', active: true, weightGrams: 0 },
  ]);
});

test('an unknown SKU is refused with SKU_NOT_FOUND naming it', async () => {
  const error = await domainErrorOf(catalog.getSkus(['sku_tea_250g', 'sku_ghost']));
  expect(error.code).toBe('SKU_NOT_FOUND');
  expect(error.message).toContain('sku_ghost');
  expect(error.details).toEqual({ skuId: 'sku_ghost' });
  expect((await domainErrorOf(catalog.getSku('sku_ghost'))).code).toBe('SKU_NOT_FOUND');
});

test('an inactive SKU, or any SKU of an inactive product, is refused with SKU_INACTIVE', async () => {
  const inactive = await domainErrorOf(catalog.getSkus(['sku_tea_old']));
  expect(inactive.code).toBe('SKU_INACTIVE');
  expect(inactive.details).toEqual({ skuId: 'sku_tea_old' });
  // The admin view still shows it.
  expect(await catalog.getSku('sku_tea_old')).toMatchObject({ active: false, listPriceFen: 5_000 });

  await catalog.upsertProduct({ id: 'prod_retired', name: 'Retired', status: 'inactive' });
  await catalog.upsertSku({ id: 'sku_retired_1', productId: 'prod_retired', name: 'Retired 1', listPriceFen: 100 });
  const retired = await domainErrorOf(catalog.getSkus(['sku_retired_1']));
  expect(retired.code).toBe('SKU_INACTIVE');
  expect(retired.message).toContain('sku_retired_1');
});

test('zod rejects a negative, zero, fractional or non-numeric price and nothing is written', async () => {
  for (const listPriceFen of [-100, 0, 12.5, Number.NaN, 3_000_000_000]) {
    await expect(
      catalog.upsertSku({ id: 'sku_bad_price', productId: 'prod_tea', name: 'Bad', listPriceFen }),
    ).rejects.toBeInstanceOf(ZodError);
  }
  await expect(
    catalog.upsertSku({ id: 'sku_bad_price', productId: 'prod_tea', name: 'Bad', listPriceFen: '100' as unknown as number }),
  ).rejects.toBeInstanceOf(ZodError);
  expect((await domainErrorOf(catalog.getSku('sku_bad_price'))).code).toBe('SKU_NOT_FOUND');
});

test('the database itself refuses a non-positive price (CHECK), whatever the code does', async () => {
  await expect(
    env.pool.query(`INSERT INTO catalog.skus (id, product_id, name, list_price_fen) VALUES ('sku_sql', 'prod_tea', 'x', 0)`),
  ).rejects.toThrow(/check constraint/);
});

test('upserts are idempotent by id: repeating one changes nothing, a new price replaces the old', async () => {
  const input = { id: 'sku_tea_gift', productId: 'prod_tea', name: 'Gift box', listPriceFen: 39_900 };
  await catalog.upsertSku(input);
  await catalog.upsertSku(input);
  const count = await env.pool.query(`SELECT count(*)::int AS n FROM catalog.skus WHERE id = 'sku_tea_gift'`);
  expect(count.rows[0].n).toBe(1);
  await catalog.upsertSku({ ...input, listPriceFen: 35_900 });
  expect((await catalog.getSkus(['sku_tea_gift']))[0].listPriceFen).toBe(35_900);
});

test('a SKU of an unknown product is refused with PRODUCT_NOT_FOUND', async () => {
  const error = await domainErrorOf(catalog.upsertSku({ id: 'sku_orphan', productId: 'prod_none', name: 'x', listPriceFen: 100 }));
  expect(error.code).toBe('PRODUCT_NOT_FOUND');
});

test('listProducts lists products with their SKUs', async () => {
  const products = await catalog.listProducts();
  const tea = products.find((product) => product.id === 'prod_tea')!;
  expect(tea.status).toBe('active');
  expect(tea.skus.map((sku) => sku.id)).toEqual(expect.arrayContaining(['sku_tea_250g', 'sku_tea_500g', 'sku_tea_old']));
});

test('the getSkusForOrder activity returns prices and turns a refusal into a non-retryable failure', async () => {
  const activities = createCatalogActivities({ pool: env.pool });
  const skus = await activities.getSkusForOrder({ skuIds: ['sku_tea_250g'] });
  expect(skus.map((sku) => [sku.id, sku.listPriceFen])).toEqual([['sku_tea_250g', 12_800]]);

  const failure = await activities.getSkusForOrder({ skuIds: ['sku_nope'] }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect((failure as ApplicationFailure).type).toBe('SKU_NOT_FOUND');
  expect((failure as ApplicationFailure).nonRetryable).toBe(true);
});
