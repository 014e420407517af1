import '../infra/tracing-preload';
import { runWorkerProcess } from './process';

/** Worker process for the finance task queue (its module's activities). See workers/process.ts. */
runWorkerProcess('finance');
