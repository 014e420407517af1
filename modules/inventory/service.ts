import { adjustStock, transferStock } from './adjustments';
import type { Pool } from 'pg';
import { systemClock, type Clock } from '../shared/db';
import { acknowledgeAlert, listLowStockAlerts } from './alerts';
import { allocateCampaignStock, commitCampaignStock, getCampaignStock, releaseCampaignStock, reserveCampaignStock } from './campaign';
import type { InventoryContext } from './context';
import { commit, release, reserve } from './reservations';
import type {
  AllocateCampaignStockInput,
  CommitCampaignStockInput,
  CommitInput,
  CompensationInput,
  ReceiveStockInput,
  ReserveCampaignStockInput,
  ReserveInput,
  RestockInput,
  SetLowStockThresholdInput,
  SetStockInput,
  UpsertWarehouseInput,
} from './schemas';
import { warehousesOfOrder } from './order-warehouses';
import { commitParcelStock, releaseParcelStock, sharesOfReservation, type ParcelStockInput } from './parcel-stock';
import { restock } from './shipments';
import { getStock, receiveStock, setLowStockThreshold, setStock, upsertWarehouse } from './stock';

export interface InventoryServiceDeps {
  pool: Pool;
  clock?: Clock;
}

/** Stock per warehouse, order reservations, campaign pools and low-stock alerts (see the files it wires). */
export function createInventoryService({ pool, clock = systemClock }: InventoryServiceDeps) {
  const ctx: InventoryContext = { pool, clock };
  return {
    // Orders
    reserve: (input: ReserveInput) => reserve(ctx, input),
    release: (input: CompensationInput) => release(ctx, input),
    commit: (input: CommitInput) => commit(ctx, input),
    restock: (input: RestockInput) => restock(ctx, input),
    warehousesOfOrder: (orderId: string) => warehousesOfOrder(ctx, orderId),
    // Parcels (one per warehouse of a reservation)
    sharesOfReservation: (reservationKey: string) => sharesOfReservation(ctx, reservationKey),
    commitParcelStock: (input: ParcelStockInput) => commitParcelStock(ctx, input),
    releaseParcelStock: (input: ParcelStockInput) => releaseParcelStock(ctx, input),
    // Campaign pools
    allocateCampaignStock: (input: AllocateCampaignStockInput) => allocateCampaignStock(ctx, input),
    reserveCampaignStock: (input: ReserveCampaignStockInput) => reserveCampaignStock(ctx, input),
    releaseCampaignStock: (input: CompensationInput) => releaseCampaignStock(ctx, input),
    commitCampaignStock: (input: CommitCampaignStockInput) => commitCampaignStock(ctx, input),
    getCampaignStock: (campaignId: string, skuId: string) => getCampaignStock(ctx, campaignId, skuId),
    // Admin
    upsertWarehouse: (input: UpsertWarehouseInput) => upsertWarehouse(ctx, input),
    setStock: (input: SetStockInput) => setStock(ctx, input),
    receiveStock: (input: ReceiveStockInput) => receiveStock(ctx, input),
    adjustStock: (input: Parameters<typeof adjustStock>[1]) => adjustStock(ctx, input),
    transferStock: (input: Parameters<typeof transferStock>[1]) => transferStock(ctx, input),
    getStock: (skuId: string) => getStock(ctx, skuId),
    setLowStockThreshold: (input: SetLowStockThresholdInput) => setLowStockThreshold(ctx, input),
    listLowStockAlerts: (options?: { includeAcknowledged?: boolean }) => listLowStockAlerts(ctx, options),
    acknowledgeAlert: (alertId: string | number) => acknowledgeAlert(ctx, alertId),
  };
}

export type InventoryService = ReturnType<typeof createInventoryService>;
