// Every workflow the engine runs; the worker bundles this file.
export * from './smoke-test';
export * from './order/types/standard';
export * from './order/types/presale';
export * from './order/types/flash-sale';
export * from './order/types/group-buy';
export * from './order/late-payment';
export * from './after-sales/refund-request';
export * from './group/group';
export * from './reports/roll-up';
export * from './reconciliation';
export * from './events/dispatcher';
