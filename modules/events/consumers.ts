import type { Pool } from 'pg';
import type { Config } from '../../infra/config';
import type { EventConsumer } from './types';

/**
 * The engine's in-process event consumers, the same list in every worker process (workers/main.ts,
 * scripts/start.ts): each is delivered by its own dispatcher workflow (`consumer:<name>`), in order,
 * with retries and dead letters like a webhook. The notifications module and the NATS publisher
 * plug in here.
 */
export function engineEventConsumers(_config: Config, _pool: Pool): EventConsumer[] {
  return [];
}
