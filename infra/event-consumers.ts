import type { Pool } from 'pg';
import { createNatsEventPublisher } from '../modules/events/nats';
import type { EventConsumer } from '../modules/events/types';
import { createNotificationConsumer } from '../modules/notifications';
import type { SandboxNotifier } from '../modules/notifications/sandbox';
import type { Config } from './config';
import { loadSandboxNotifierModule } from './dev-tools';

/**
 * The engine's own event consumers the configuration asks for, for the process that runs the outbox
 * dispatcher: buyer notifications (unless NOTIFICATIONS_PROVIDER=disabled) and the NATS publisher
 * (when EVENTS_NATS_URL is set). The outbox delivers to each as it does to HTTP subscribers.
 */
export interface ConfiguredEventConsumers {
  consumers: EventConsumer[];
  /** Only outside production, with NOTIFICATIONS_PROVIDER=sandbox. */
  sandboxNotifier?: SandboxNotifier;
  close(): Promise<void>;
}

export function createConfiguredEventConsumers(config: Config, pool: Pool): ConfiguredEventConsumers {
  const consumers: EventConsumer[] = [];
  const closers: (() => Promise<void>)[] = [];
  let sandboxNotifier: SandboxNotifier | undefined;
  if (config.NOTIFICATIONS_PROVIDER === 'sandbox') {
    // loadConfig refuses this in production already; the notifier refuses too, for a hand-built Config.
    sandboxNotifier = loadSandboxNotifierModule({ production: config.NODE_ENV === 'production' }).createSandboxNotifier({ production: config.NODE_ENV === 'production' });
    consumers.push(createNotificationConsumer({ pool, provider: sandboxNotifier, timeZone: config.STORE_TIMEZONE, signName: config.NOTIFICATIONS_SIGN_NAME }));
  } else if (config.NOTIFICATIONS_PROVIDER !== 'disabled') {
    throw new Error(`NOTIFICATIONS_PROVIDER=${String(config.NOTIFICATIONS_PROVIDER)} is not a notification provider of this engine`);
  }
  if (config.EVENTS_NATS_URL) {
    const nats = createNatsEventPublisher({ url: config.EVENTS_NATS_URL, stream: config.EVENTS_NATS_STREAM, subjectPrefix: config.EVENTS_NATS_SUBJECT_PREFIX });
    consumers.push(nats);
    closers.push(() => nats.close());
  }
  return {
    consumers,
    sandboxNotifier,
    async close() {
      await Promise.all(closers.map((close) => close()));
    },
  };
}
