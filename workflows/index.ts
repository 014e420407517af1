// Every workflow the engine runs; the worker bundles this file.
export * from './smoke-test';
export * from './order/standard-order';
export * from './order/late-payment';
