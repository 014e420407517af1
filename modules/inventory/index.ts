export * from './schemas';
export * from './service';
export { allocateLine, type WarehouseAvailability } from './allocation';
