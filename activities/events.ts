import { createEventDelivery, type DeliveryAttempt } from '../modules/events/delivery';
import type { ActivityDeps } from './deps';

/** Activities of the event dispatcher (workflows/events/dispatcher.ts): thin wrappers over modules/events. */
export function createEventActivities(deps: ActivityDeps) {
  const delivery = createEventDelivery({ pool: deps.pool, consumers: deps.eventConsumers, network: deps.subscriberNetwork });
  return {
    eventsResumePoint: (subscriptionId: string) => delivery.resumePoint(subscriptionId),
    nextEvents: (input: { subscriptionId: string; afterSeq: number; limit: number }) => delivery.nextEvents(input),
    deliverEvent: (input: DeliveryAttempt) => delivery.deliver(input),
    deadLetterEvent: (input: DeliveryAttempt & { error: string }) => delivery.deadLetter(input),
    reopenDeliveries: (input: { subscriptionId: string; fromSeq: number }) => delivery.reopen(input),
  };
}

export type EventActivities = ReturnType<typeof createEventActivities>;
