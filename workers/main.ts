import '../infra/tracing-preload';
import { runWorkerProcess } from './process';

/** Worker process for every task queue: the order workflows and all activities (the single-process default). See workers/process.ts. */
runWorkerProcess('all');
