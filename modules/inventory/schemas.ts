import { z } from 'zod';

const idSchema = z.string().min(1).max(100).regex(/^\S+$/, 'must not contain whitespace');
export const idempotencyKeySchema = z.string().min(1).max(200);
/** Quantities are whole units within the `integer` columns' range. */
const quantitySchema = z.number().int().positive().max(1_000_000_000);
const countSchema = z.number().int().min(0).max(1_000_000_000);

export const stockLineSchema = z.object({ skuId: idSchema, quantity: quantitySchema });
export type StockLine = z.infer<typeof stockLineSchema>;

export const upsertWarehouseSchema = z.object({
  id: idSchema,
  name: z.string().trim().min(1).max(200),
  priority: z.number().int().min(-1_000_000).max(1_000_000),
});
export type UpsertWarehouseInput = z.infer<typeof upsertWarehouseSchema>;

export const setStockSchema = z.object({ skuId: idSchema, warehouseId: idSchema, onHand: countSchema });
export type SetStockInput = z.infer<typeof setStockSchema>;

export const receiveStockSchema = z.object({
  idempotencyKey: idempotencyKeySchema,
  skuId: idSchema,
  warehouseId: idSchema,
  quantity: quantitySchema,
});
export type ReceiveStockInput = z.infer<typeof receiveStockSchema>;

export const setLowStockThresholdSchema = z.object({ skuId: idSchema, threshold: countSchema });
export type SetLowStockThresholdInput = z.infer<typeof setLowStockThresholdSchema>;

export const reserveSchema = z.object({
  idempotencyKey: idempotencyKeySchema,
  orderId: idSchema,
  lines: z.array(stockLineSchema).min(1).max(500),
});
export type ReserveInput = z.infer<typeof reserveSchema>;

/** The compensation of an operation takes the forward operation's key. */
export const compensationSchema = z.object({ idempotencyKey: idempotencyKeySchema });
export type CompensationInput = z.infer<typeof compensationSchema>;

export const commitSchema = z.object({ idempotencyKey: idempotencyKeySchema, reservationKey: idempotencyKeySchema });
export type CommitInput = z.infer<typeof commitSchema>;

export const restockSchema = z.object({
  idempotencyKey: idempotencyKeySchema,
  orderId: idSchema,
  lines: z.array(stockLineSchema).min(1).max(500),
});
export type RestockInput = z.infer<typeof restockSchema>;

export const allocateCampaignStockSchema = z.object({
  idempotencyKey: idempotencyKeySchema,
  campaignId: idSchema,
  skuId: idSchema,
  cap: countSchema,
});
export type AllocateCampaignStockInput = z.infer<typeof allocateCampaignStockSchema>;

export const reserveCampaignStockSchema = z.object({
  idempotencyKey: idempotencyKeySchema,
  campaignId: idSchema,
  skuId: idSchema,
  quantity: quantitySchema,
  orderId: idSchema,
});
export type ReserveCampaignStockInput = z.infer<typeof reserveCampaignStockSchema>;

export const commitCampaignStockSchema = commitSchema;
export type CommitCampaignStockInput = CommitInput;

export const skuIdSchema = idSchema;
export const campaignIdSchema = idSchema;
export const alertIdSchema = z.union([z.number().int().positive(), z.string().regex(/^[1-9][0-9]*$/)]).transform(String);

/** Units of one SKU taken from (or put back into) one warehouse. */
export interface Allocation {
  skuId: string;
  warehouseId: string;
  quantity: number;
}

export interface Reservation {
  reservationKey: string;
  orderId: string;
  allocations: Allocation[];
}

export interface StockLevel {
  onHand: number;
  reserved: number;
  available: number;
}

export interface WarehouseStock extends StockLevel {
  warehouseId: string;
}

export interface SkuStock extends StockLevel {
  skuId: string;
  warehouses: WarehouseStock[];
}

export interface CommittedStock {
  reservationKey: string;
  orderId: string;
  allocations: Allocation[];
}

export interface Restock {
  orderId: string;
  allocations: Allocation[];
}

export interface CampaignStock {
  campaignId: string;
  skuId: string;
  cap: number;
  reserved: number;
  sold: number;
  available: number;
}

export interface CampaignReservation {
  reservationKey: string;
  campaignId: string;
  skuId: string;
  orderId: string;
  quantity: number;
}

export interface LowStockAlert {
  id: string;
  skuId: string;
  available: number;
  threshold: number;
  createdAt: string;
  acknowledgedAt: string | null;
}
