import { z } from 'zod';

/** Catalog ids are readable text ('prod_tea', 'sku_tea_250g'): no whitespace, bounded length. */
export const catalogIdSchema = z.string().min(1).max(100).regex(/^\S+$/, 'must not contain whitespace');

/** List prices live in an `integer` column: positive whole fen within its range. */
export const listPriceFenSchema = z.number().int().positive().max(2_147_483_647);

export const productStatusSchema = z.enum(['active', 'inactive']);
export type ProductStatus = z.infer<typeof productStatusSchema>;

export const upsertProductSchema = z.object({
  id: catalogIdSchema,
  name: z.string().trim().min(1).max(200),
  status: productStatusSchema.default('active'),
});
export type UpsertProductInput = z.input<typeof upsertProductSchema>;

export const upsertSkuSchema = z.object({
  id: catalogIdSchema,
  productId: catalogIdSchema,
  name: z.string().trim().min(1).max(200),
  listPriceFen: listPriceFenSchema,
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY').default('CNY'),
  active: z.boolean().default(true),
  /** Shipping weight in grams (freight by weight, modules/logistics/freight.ts). */
  weightGrams: z.number().int().min(0).max(1_000_000).default(0),
});
export type UpsertSkuInput = z.input<typeof upsertSkuSchema>;

export const skuIdsSchema = z.array(catalogIdSchema).min(1).max(500);

export const getSkusForOrderSchema = z.object({ skuIds: skuIdsSchema });
export type GetSkusForOrderInput = z.infer<typeof getSkusForOrderSchema>;

export interface Product {
  id: string;
  name: string;
  status: ProductStatus;
}

export interface Sku {
  id: string;
  productId: string;
  name: string;
  listPriceFen: number;
  currency: string;
  active: boolean;
  weightGrams: number;
}

export interface ProductWithSkus extends Product {
  skus: Sku[];
}
