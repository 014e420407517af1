import type { Pool } from 'pg';
import { z } from 'zod';
import { createCatalogService, type Sku } from '../catalog';
import { withTransaction } from '../shared/db';
import { DomainError } from '../shared/errors';
import { regionPath, type RegionCodes } from './regions';

/**
 * Freight (运费模板, README "Freight and channels"): the shop's default template prices an order by
 * weight (grams) or pieces: the first unit(s) at `firstFen`, each further started block of
 * `additionalUnits` at `additionalFen`. A region rule (district, else city, else province) may price
 * it otherwise, add a remote surcharge, or refuse the region. Goods of at least `freeOverFen` (after
 * promotions and coupon) ship free; a remote surcharge is still charged. No template: freight is 0.
 */
const fen = z.number().int().min(0).max(10_000_000);
export const regionRuleSchema = z
  .object({
    regionCode: z.string().regex(/^[1-9]\d{5}$/),
    firstFen: fen.optional(),
    additionalFen: fen.optional(),
    surchargeFen: fen.default(0),
    delivers: z.boolean().default(true),
  })
  .strict();
export const freightTemplateSchema = z
  .object({
    templateId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/),
    name: z.string().trim().min(1).max(100),
    basis: z.enum(['WEIGHT', 'PIECE']),
    firstUnits: z.number().int().min(1).max(1_000_000),
    firstFen: fen,
    additionalUnits: z.number().int().min(1).max(1_000_000),
    additionalFen: fen,
    freeOverFen: fen.optional(),
    isDefault: z.boolean().default(true),
    regions: z.array(regionRuleSchema).max(500).default([]),
  })
  .strict();
export type FreightTemplateInput = z.input<typeof freightTemplateSchema>;
export type FreightTemplate = z.infer<typeof freightTemplateSchema>;
export type RegionRule = z.infer<typeof regionRuleSchema>;

export interface FreightLine {
  quantity: number;
  weightGrams: number;
}

export interface FreightQuote {
  freightFen: number;
  /** Before the free-shipping threshold and the surcharge. */
  baseFen: number;
  surchargeFen: number;
  freeShipping: boolean;
  templateId: string | null;
}

export class UndeliverableRegionError extends DomainError {
  constructor(regionCode: string) {
    super('REGION_NOT_DELIVERED', `the shop does not deliver to region ${regionCode}`, { regionCode });
  }
}

/** Pure: the freight of the lines to `destination` under `template`; throws UndeliverableRegionError. */
export function priceFreight(template: FreightTemplate | undefined, destination: RegionCodes, lines: readonly FreightLine[], goodsFen: number): FreightQuote {
  if (!template) return { freightFen: 0, baseFen: 0, surchargeFen: 0, freeShipping: false, templateId: null };
  const rule = regionPath(destination)
    .map((code) => template.regions.find((candidate) => candidate.regionCode === code))
    .find((candidate) => candidate !== undefined);
  if (rule && !rule.delivers) throw new UndeliverableRegionError(rule.regionCode);
  const units = lines.reduce((sum, line) => sum + line.quantity * (template.basis === 'WEIGHT' ? line.weightGrams : 1), 0);
  const firstFen = rule?.firstFen ?? template.firstFen;
  const additionalFen = rule?.additionalFen ?? template.additionalFen;
  const extraBlocks = Math.max(0, Math.ceil((units - template.firstUnits) / template.additionalUnits));
  const baseFen = lines.length === 0 ? 0 : firstFen + extraBlocks * additionalFen;
  const freeShipping = template.freeOverFen !== undefined && goodsFen >= template.freeOverFen;
  const surchargeFen = rule?.surchargeFen ?? 0;
  return { freightFen: (freeShipping ? 0 : baseFen) + surchargeFen, baseFen, surchargeFen, freeShipping, templateId: template.templateId };
}

export interface QuoteFreightInput {
  destination: RegionCodes;
  lines: { skuId: string; quantity: number }[];
  /** The goods after promotions and coupon: what the free-shipping threshold compares. */
  goodsFen: number;
}

/**
 * The shop's default template with its region rules as one jsonb value (null: no template), for
 * `defaultTemplate` and for a caller that reads it with other modules' rows in one statement.
 */
export const DEFAULT_TEMPLATE_JSON = `(SELECT jsonb_build_object('templateId', t.template_id, 'name', t.name, 'basis', t.basis, 'firstUnits', t.first_units,
    'firstFen', t.first_fen, 'additionalUnits', t.additional_units, 'additionalFen', t.additional_fen,
    'freeOverFen', t.free_over_fen, 'isDefault', t.is_default,
    'regions', COALESCE((SELECT jsonb_agg(jsonb_build_object('regionCode', r.region_code, 'firstFen', r.first_fen,
       'additionalFen', r.additional_fen, 'surchargeFen', r.surcharge_fen, 'delivers', r.delivers))
       FROM logistics.freight_region_rules r WHERE r.template_id = t.template_id), '[]'::jsonb))
  FROM logistics.freight_templates t WHERE t.is_default)`;

/** The template from that value. */
export function templateFromJson(template: unknown): FreightTemplate | undefined {
  if (!template) return undefined;
  // jsonb nulls for unset prices: the template's own apply.
  return freightTemplateSchema.parse(JSON.parse(JSON.stringify(template, (_key, value: unknown) => (value === null ? undefined : value))));
}

export function createFreightService({ pool }: { pool: Pool }) {
  const catalog = createCatalogService({ pool });

  async function defaultTemplate(): Promise<FreightTemplate | undefined> {
    const found = await pool.query<{ template: unknown }>(`SELECT ${DEFAULT_TEMPLATE_JSON} AS template`);
    return templateFromJson(found.rows[0]?.template);
  }

  return {
    defaultTemplate,

    /** Replaces a template and its region rules (an upsert by id); the default one prices every order. */
    async saveTemplate(input: FreightTemplateInput): Promise<FreightTemplate> {
      const template = freightTemplateSchema.parse(input);
      await withTransaction(pool, async (client) => {
        if (template.isDefault) await client.query('UPDATE logistics.freight_templates SET is_default = false WHERE is_default AND template_id <> $1', [template.templateId]);
        await client.query(
          `INSERT INTO logistics.freight_templates (template_id, name, basis, first_units, first_fen, additional_units, additional_fen, free_over_fen, is_default)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (template_id) DO UPDATE SET name = EXCLUDED.name, basis = EXCLUDED.basis, first_units = EXCLUDED.first_units,
             first_fen = EXCLUDED.first_fen, additional_units = EXCLUDED.additional_units, additional_fen = EXCLUDED.additional_fen,
             free_over_fen = EXCLUDED.free_over_fen, is_default = EXCLUDED.is_default, updated_at = now()`,
          [template.templateId, template.name, template.basis, template.firstUnits, template.firstFen, template.additionalUnits, template.additionalFen, template.freeOverFen ?? null, template.isDefault],
        );
        await client.query('DELETE FROM logistics.freight_region_rules WHERE template_id = $1', [template.templateId]);
        for (const rule of template.regions) {
          await client.query(
            `INSERT INTO logistics.freight_region_rules (template_id, region_code, first_fen, additional_fen, surcharge_fen, delivers) VALUES ($1, $2, $3, $4, $5, $6)`,
            [template.templateId, rule.regionCode, rule.firstFen ?? null, rule.additionalFen ?? null, rule.surchargeFen, rule.delivers],
          );
        }
      });
      return template;
    },

    /**
     * The order's freight: weights from the catalog (or `knownSkus`, when the caller has just read
     * them), the default template (or `known.template`, read by the caller with DEFAULT_TEMPLATE_JSON);
     * REGION_NOT_DELIVERED refuses.
     */
    async quote(input: QuoteFreightInput, knownSkus?: readonly Pick<Sku, 'id' | 'weightGrams'>[], known?: { template: FreightTemplate | undefined }): Promise<FreightQuote> {
      const template = known ? known.template : await defaultTemplate();
      if (!template) return priceFreight(undefined, input.destination, [], input.goodsFen);
      const skus = template.basis !== 'WEIGHT' ? [] : (knownSkus ?? (await catalog.getSkus(input.lines.map((line) => line.skuId))));
      const weightOf = new Map(skus.map((sku) => [sku.id, sku.weightGrams]));
      const lines = input.lines.map((line) => ({ quantity: line.quantity, weightGrams: weightOf.get(line.skuId) ?? 0 }));
      return priceFreight(template, input.destination, lines, input.goodsFen);
    },
  };
}

export type FreightService = ReturnType<typeof createFreightService>;
