import { z } from 'zod';
import { SKUS_JSON, skuIdsToRead, skusForSale } from '../modules/catalog';
import { createFreightService, DEFAULT_TEMPLATE_JSON, regionCodeSchema, templateFromJson, type FreightQuote } from '../modules/logistics';
import { ACTIVE_PROMOTIONS_JSON, createMarketingService, promotionsFromJson, type Quote } from '../modules/marketing/service';
import { systemClock } from '../modules/shared/db';
import { idSchema as id } from '../modules/shared/validation';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

const fen = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const priceOrderSchema = z.object({
  memberId: id,
  lines: z.array(z.object({ skuId: id, quantity: z.number().int().positive() })).min(1).max(100),
  /** Campaign prices that replace a SKU's list price (a group-buy's group price), by SKU id. */
  unitPriceFen: z.record(id, fen).optional(),
  couponId: id.optional(),
  pointsToRedeem: z.number().int().nonnegative().optional(),
  /** Where the order ships; without one, no freight is priced (orders from before addresses). */
  destination: z.object({ provinceCode: regionCodeSchema, cityCode: regionCodeSchema, districtCode: regionCodeSchema }).optional(),
});
export type PriceOrderInput = z.input<typeof priceOrderSchema>;

export interface PricedOrder {
  quote: Quote;
  /** Set when the order has a destination. */
  freight?: FreightQuote;
}

/**
 * Placement's pricing in one step (issue 17): the SKUs' list prices (catalog), the quote with
 * promotions, coupon and points (marketing), then the freight of the goods after promotions and
 * coupon (logistics), each by its own module's rules, as the three steps they replace did. One local
 * activity instead of three, and one statement for what it reads (SKUs, promotions, template; a
 * coupon is read by marketing when there is one): the buyer waits on it. A lookup has no effect to
 * undo. A refusal
 * (SKU_NOT_FOUND, COUPON_*, REGION_NOT_DELIVERED) fails it as the step that refused would have.
 */
export function createPlacementActivities(deps: ActivityDeps) {
  const marketing = createMarketingService({ pool: deps.pool, clock: deps.clock });
  const freight = createFreightService({ pool: deps.pool });
  return {
    async priceOrder(input: PriceOrderInput): Promise<PricedOrder> {
      return asActivity(async () => {
        const { memberId, lines, unitPriceFen = {}, couponId, pointsToRedeem, destination } = priceOrderSchema.parse(input);
        // The SKUs, the promotions running now and the freight template in one statement (each
        // module's fragment), judged by each module's rules as its own reads would be.
        const at = (deps.clock ?? systemClock)();
        const skuIds = skuIdsToRead(lines.map((line) => line.skuId));
        const read = await deps.pool.query<{ skus: unknown[]; promotions: unknown[]; template: unknown }>(
          `SELECT ${SKUS_JSON('$1')} AS skus, ${ACTIVE_PROMOTIONS_JSON('$2')} AS promotions, ${destination ? DEFAULT_TEMPLATE_JSON : 'NULL'} AS template`,
          [skuIds, at],
        );
        const { rows: [row] } = read;
        const skus = skusForSale(skuIds, row.skus);
        const listPriceOf = new Map(skus.map((sku) => [sku.id, sku.listPriceFen]));
        const quote = await marketing.quote({
          memberId,
          lines: lines.map((line, index) => ({
            lineId: `L${index + 1}`,
            skuId: line.skuId,
            quantity: line.quantity,
            unitPriceFen: unitPriceFen[line.skuId] ?? listPriceOf.get(line.skuId)!,
          })),
          couponId,
          pointsToRedeem,
        }, { promotions: promotionsFromJson(row.promotions), at });
        if (!destination) return { quote };
        const { listFen, promotionDiscountFen, couponDiscountFen } = quote.totals;
        const goodsFen = listFen - promotionDiscountFen - couponDiscountFen;
        return { quote, freight: await freight.quote({ destination, lines, goodsFen }, skus, { template: templateFromJson(row.template) }) };
      });
    },
  };
}

export type PlacementActivities = ReturnType<typeof createPlacementActivities>;
