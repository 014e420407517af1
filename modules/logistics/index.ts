// Logistics: regions, shipping addresses and freight; parcels and their tracking.
export * from './regions';
export * from './addresses';
export * from './freight';
export * from './parcels';
