export * from './parcels';
