// Every workflow the engine runs; the worker bundles this file.
export * from './smoke-test';
export * from './order/standard-order';
