import '../infra/tracing-preload';
import { runWorkerProcess } from './process';

/** Worker process for the member/marketing task queue (points, coupons, quotes). See workers/process.ts. */
runWorkerProcess('member');
