import '../infra/tracing-preload';
import { runWorkerProcess } from './process';

/** Worker process for the orders task queue: the order workflows and the activities that stay on it. See workers/process.ts. */
runWorkerProcess('orders');
