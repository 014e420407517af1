import type { Pool } from 'pg';
import { DomainError } from '../shared/errors';
import {
  catalogIdSchema,
  skuIdsSchema,
  upsertProductSchema,
  upsertSkuSchema,
  type Product,
  type ProductWithSkus,
  type Sku,
  type UpsertProductInput,
  type UpsertSkuInput,
} from './schemas';

export interface CatalogServiceDeps {
  pool: Pool;
}

interface SkuRow {
  id: string;
  product_id: string;
  name: string;
  list_price_fen: number;
  currency: string;
  active: boolean;
  weight_grams: number;
  product_status: Product['status'];
}

const SKU_COLUMNS = `s.id, s.product_id, s.name, s.list_price_fen, s.currency, s.active, s.weight_grams, p.status AS product_status`;

function toSku(row: Omit<SkuRow, 'product_status'>): Sku {
  return {
    id: row.id,
    productId: row.product_id,
    name: row.name,
    listPriceFen: row.list_price_fen,
    currency: row.currency,
    active: row.active,
    weightGrams: row.weight_grams,
  };
}

/** The SKU ids a read asks for: validated, each once, in the order given. */
export function skuIdsToRead(skuIds: string[]): string[] {
  return [...new Set(skuIdsSchema.parse(skuIds))];
}

/**
 * For a caller that reads the SKUs with other modules' rows in one statement (placement's checks):
 * the SKUs whose ids are the text[] parameter `idsParam`, as one jsonb array column.
 */
export const SKUS_JSON = (idsParam: string) =>
  `(SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]'::jsonb) FROM (SELECT ${SKU_COLUMNS} FROM catalog.skus s JOIN catalog.products p ON p.id = s.product_id WHERE s.id = ANY(${idsParam}::text[])) x)`;

/** The SKUs asked for, in order, from their rows: SKU_NOT_FOUND / SKU_INACTIVE name the first that is not for sale. */
export function skusForSale(ids: string[], rows: readonly unknown[]): Sku[] {
  const byId = new Map((rows as SkuRow[]).map((row) => [row.id, row]));
  return ids.map((id) => {
    const row = byId.get(id);
    if (!row) throw new DomainError('SKU_NOT_FOUND', `SKU ${id} does not exist`, { skuId: id });
    if (!row.active || row.product_status !== 'active') {
      throw new DomainError('SKU_INACTIVE', `SKU ${id} is not for sale`, { skuId: id });
    }
    return toSku(row);
  });
}

/**
 * Products and SKUs. Admin writes are upserts by id, so repeating one is harmless (no operation key
 * needed). A SKU is sellable only when it is active and its product is active.
 */
export function createCatalogService({ pool }: CatalogServiceDeps) {
  return {
    async upsertProduct(input: UpsertProductInput): Promise<Product> {
      const product = upsertProductSchema.parse(input);
      const saved = await pool.query<Product>(
        `INSERT INTO catalog.products (id, name, status) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status, updated_at = now()
         RETURNING id, name, status`,
        [product.id, product.name, product.status],
      );
      return saved.rows[0];
    },

    async upsertSku(input: UpsertSkuInput): Promise<Sku> {
      const sku = upsertSkuSchema.parse(input);
      const product = await pool.query('SELECT 1 FROM catalog.products WHERE id = $1', [sku.productId]);
      if (product.rowCount === 0) {
        throw new DomainError('PRODUCT_NOT_FOUND', `product ${sku.productId} does not exist`, { productId: sku.productId });
      }
      const saved = await pool.query<Omit<SkuRow, 'product_status'>>(
        `INSERT INTO catalog.skus (id, product_id, name, list_price_fen, currency, active, weight_grams) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET product_id = EXCLUDED.product_id, name = EXCLUDED.name,
           list_price_fen = EXCLUDED.list_price_fen, currency = EXCLUDED.currency, active = EXCLUDED.active,
           weight_grams = EXCLUDED.weight_grams, updated_at = now()
         RETURNING id, product_id, name, list_price_fen, currency, active, weight_grams`,
        [sku.id, sku.productId, sku.name, sku.listPriceFen, sku.currency, sku.active, sku.weightGrams],
      );
      return toSku(saved.rows[0]);
    },

    /** Any SKU, sellable or not (admin view). */
    async getSku(skuId: string): Promise<Sku> {
      const id = catalogIdSchema.parse(skuId);
      const found = await pool.query<SkuRow>(
        `SELECT ${SKU_COLUMNS} FROM catalog.skus s JOIN catalog.products p ON p.id = s.product_id WHERE s.id = $1`,
        [id],
      );
      if (found.rowCount === 0) throw new DomainError('SKU_NOT_FOUND', `SKU ${id} does not exist`, { skuId: id });
      return toSku(found.rows[0]);
    },

    /**
     * The sellable SKUs with their list prices, in the order asked (duplicates once), for pricing an
     * order. Refuses the whole request when any SKU is unknown or not sellable, naming it.
     */
    async getSkus(skuIds: string[]): Promise<Sku[]> {
      const ids = skuIdsToRead(skuIds);
      const found = await pool.query<SkuRow>(
        `SELECT ${SKU_COLUMNS} FROM catalog.skus s JOIN catalog.products p ON p.id = s.product_id WHERE s.id = ANY($1)`,
        [ids],
      );
      return skusForSale(ids, found.rows);
    },

    async listProducts(): Promise<ProductWithSkus[]> {
      const products = await pool.query<Product>('SELECT id, name, status FROM catalog.products ORDER BY id');
      const skus = await pool.query<SkuRow>(
        `SELECT ${SKU_COLUMNS} FROM catalog.skus s JOIN catalog.products p ON p.id = s.product_id ORDER BY s.id`,
      );
      return products.rows.map((product) => ({
        ...product,
        skus: skus.rows.filter((row) => row.product_id === product.id).map(toSku),
      }));
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
