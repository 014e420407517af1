// Every workflow the engine runs; the worker bundles this file.
export * from './smoke-test';
export * from './order/standard-order';
export * from './order/late-payment';
export * from './order/flash-sale-order';
export * from './order/presale-order';
export * from './after-sales/refund-request';
export * from './group/group';
export * from './group/group-buy-order';
export * from './reconciliation';
