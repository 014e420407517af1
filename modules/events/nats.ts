import { jetstream, jetstreamManager, JetStreamApiCodes, JetStreamApiError, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { EventConsumer, OutboxEvent } from './types';

/**
 * The broker for those who run one: every outbox event published to NATS JetStream on
 * `<subjectPrefix>.<type>` (e.g. `orders.events.order.paid`), with the event id as the JetStream
 * message id (`Nats-Msg-Id`): a re-delivered event inside the stream's duplicate window is stored
 * once. The body is the event envelope, as HTTP subscribers receive it; headers carry its type,
 * version, seq and order id so a consumer can filter without parsing.
 *
 * The stream is created when missing (idempotent, safe from several processes). One that exists is
 * left as it is (ops may have tuned its limits or replicas) provided it captures our subjects.
 */
export interface NatsPublisherOptions {
  /** `nats://[user:password@|token@]host:port` or `tls://...`; several servers comma separated. */
  url: string;
  stream?: string;
  subjectPrefix?: string;
  /** Duplicate window of a stream we create (JetStream's default is 2 minutes). */
  duplicateWindowMs?: number;
  /** How long a publish waits for the stream's acknowledgement. */
  publishTimeoutMs?: number;
}

export interface NatsEventPublisher extends EventConsumer {
  /** Creates the stream when missing; resolves once it exists and captures our subjects. */
  ensureStream(): Promise<void>;
  /** The subject an event of this type is published on. */
  subjectOf(type: string): string;
  close(): Promise<void>;
}

export const DEFAULT_NATS_STREAM = 'ORDER_EVENTS';
export const DEFAULT_NATS_SUBJECT_PREFIX = 'orders.events';
const TOKEN = /^[A-Za-z0-9_-]+$/;
/** JSStreamNameExistErr: a stream of that name exists with another configuration. */
const STREAM_NAME_IN_USE = 10058;

export function createNatsEventPublisher(options: NatsPublisherOptions): NatsEventPublisher {
  const stream = options.stream ?? DEFAULT_NATS_STREAM;
  const prefix = options.subjectPrefix ?? DEFAULT_NATS_SUBJECT_PREFIX;
  const duplicateWindowMs = options.duplicateWindowMs ?? 60 * 60_000;
  let connection: Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> | undefined;
  let streamReady: Promise<void> | undefined;

  function connected() {
    connection ??= (async () => {
      // Reconnects forever: a broker restart delays publishes (they fail and the dispatcher retries), it never ends them.
      const nc = await connect({ ...serverOptions(options.url), name: 'order-engine events', maxReconnectAttempts: -1 });
      return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
    })();
    connection.catch(() => (connection = undefined));
    return connection;
  }

  function subjectOf(type: string): string {
    if (!type.split('.').every((token) => TOKEN.test(token))) throw new Error(`event type ${JSON.stringify(type)} is not a NATS subject token sequence`);
    return `${prefix}.${type}`;
  }

  async function ensure(): Promise<void> {
    const { jsm } = await connected();
    const wanted = `${prefix}.>`;
    try {
      const info = await jsm.streams.info(stream);
      if (!info.config.subjects?.some((subject) => subjectCovers(subject, `${prefix}.order.paid`))) {
        throw new Error(`NATS stream ${stream} exists but does not capture ${wanted} (its subjects: ${info.config.subjects?.join(', ') || 'none'})`);
      }
      return;
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    }
    try {
      await jsm.streams.add({ name: stream, subjects: [wanted], storage: StorageType.File, duplicate_window: nanos(duplicateWindowMs) });
    } catch (error) {
      // Another process created it between our look and our add: theirs is as good as ours.
      if (!isApiError(error, STREAM_NAME_IN_USE)) throw error;
    }
  }

  return {
    name: 'nats',
    accepts: () => true,
    subjectOf,
    ensureStream() {
      streamReady ??= ensure();
      streamReady.catch(() => (streamReady = undefined));
      return streamReady;
    },
    async consume(event: OutboxEvent): Promise<void> {
      await this.ensureStream();
      const { js } = await connected();
      const header = headers();
      header.set('Content-Type', 'application/json');
      header.set('Event-Type', event.type);
      header.set('Event-Version', String(event.version));
      header.set('Event-Seq', String(event.seq));
      if (event.orderId) header.set('Order-Id', event.orderId);
      await js.publish(subjectOf(event.type), JSON.stringify(event), {
        msgID: event.eventId,
        headers: header,
        expect: { streamName: stream },
        timeout: options.publishTimeoutMs ?? 10_000,
      });
    },
    async close() {
      const open = connection;
      connection = undefined;
      streamReady = undefined;
      if (open) await (await open.catch(() => undefined))?.nc.drain();
    },
  };
}

/** Credentials in the URL become connect options (nats.js does not read them from the URL). */
function serverOptions(url: string): { servers: string[]; user?: string; pass?: string; token?: string; tls?: Record<string, never> } {
  const servers = url.split(',').map((server) => new URL(server.trim()));
  const first = servers[0];
  const credentials = first.username
    ? first.password
      ? { user: decodeURIComponent(first.username), pass: decodeURIComponent(first.password) }
      : { token: decodeURIComponent(first.username) }
    : {};
  return {
    servers: servers.map((server) => `${server.protocol}//${server.host}`),
    ...credentials,
    ...(first.protocol === 'tls:' ? { tls: {} } : {}),
  };
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/** NATS subject matching: `*` one token, `>` the rest. */
function subjectCovers(pattern: string, subject: string): boolean {
  const wanted = pattern.split('.');
  const tokens = subject.split('.');
  for (let index = 0; index < wanted.length; index++) {
    if (wanted[index] === '>') return tokens.length > index;
    if (index >= tokens.length || (wanted[index] !== '*' && wanted[index] !== tokens[index])) return false;
  }
  return wanted.length === tokens.length;
}
