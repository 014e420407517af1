export * from './schemas';
export * from './service';
export { allocateLine, type WarehouseAvailability } from './allocation';
export { parcelStockSchema, type ParcelStock, type ParcelStockInput, type WarehouseShare } from './parcel-stock';
