import type { Pool } from 'pg';
import type { SubscriberNetworkPolicy } from '../modules/events/subscriber-network';
import type { EventConsumer } from '../modules/events/types';
import type { PaymentProvider } from '../modules/finance/provider';
import type { Clock } from '../modules/shared/db';
import type { AuthSettings } from '../infra/tokens';

/** What activities need from the outside world; each module's factory takes what it uses. */
export interface ActivityDeps {
  pool: Pool;
  /** Defaults to the system clock. */
  clock?: Clock;
  /** The configured payment provider (infra/payments.ts); the finance activities require it: no silent default. */
  payments?: PaymentProvider;
  /** How staff tokens are verified (verifyActorToken); without it every actor token is refused. */
  auth?: AuthSettings;
  /** In-process consumers of the outbox (notifications, NATS), delivered by their dispatcher workflows. */
  eventConsumers?: readonly EventConsumer[];
  /** Where webhook subscribers may be (EVENTS_SUBSCRIBER_NETWORKS; production); undefined: anywhere. */
  subscriberNetwork?: SubscriberNetworkPolicy;
}

/** The worker's activities take money: the provider is always named, never the sandbox by default. */
export type PaymentActivityDeps = ActivityDeps & { payments: PaymentProvider };
