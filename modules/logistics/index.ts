// Logistics: regions, shipping addresses and freight (issue 13 part A). Parcels and tracking add their own exports here.
export * from './regions';
export * from './addresses';
export * from './freight';
