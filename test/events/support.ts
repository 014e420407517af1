import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_SIGNATURE_HEADER, verifyEventSignature } from '../../modules/events/signature';
import type { EventConsumer, OutboxEvent } from '../../modules/events/types';

export interface ReceivedEvent {
  event: OutboxEvent;
  signatureValid: boolean;
  status: number;
}

/**
 * A subscriber over real HTTP: it answers each request with `answer(eventId, nth attempt)` and
 * keeps every request (raw body parsed, signature checked with the subscription's secret).
 */
export async function startSubscriber(secret: string, answer: (eventId: string, attempt: number) => number) {
  const received: ReceivedEvent[] = [];
  const attempts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const event = JSON.parse(raw.toString('utf8')) as OutboxEvent;
      const attempt = (attempts.get(event.eventId) ?? 0) + 1;
      attempts.set(event.eventId, attempt);
      const status = answer(event.eventId, attempt);
      received.push({ event, status, signatureValid: verifyEventSignature(secret, req.headers[EVENT_SIGNATURE_HEADER.toLowerCase()] as string | undefined, raw) });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/events`,
    received,
    /** The events acknowledged (2xx), in the order they arrived. */
    acknowledged: () => received.filter((entry) => entry.status < 300).map((entry) => entry.event),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An in-process consumer that refuses each event's first delivery, then records it. */
export function flakyConsumer(name: string): EventConsumer & { consumed: OutboxEvent[]; attempts: Map<string, number> } {
  const consumed: OutboxEvent[] = [];
  const attempts = new Map<string, number>();
  return {
    name,
    consumed,
    attempts,
    accepts: (type) => type.startsWith('order.') || type.startsWith('parcel.'),
    async consume(event) {
      const attempt = (attempts.get(event.eventId) ?? 0) + 1;
      attempts.set(event.eventId, attempt);
      if (attempt === 1) throw new Error('not yet');
      if (!consumed.some((seen) => seen.eventId === event.eventId)) consumed.push(event);
    },
  };
}

/** Events of one order, as seq-ordered types. */
export function typesOf(events: OutboxEvent[], orderId: string): string[] {
  return events.filter((event) => event.orderId === orderId).map((event) => event.type);
}
