import type { Pool } from 'pg';
import type { OutboxEvent } from '../../modules/events/types';
import { createMemberContacts, createMemberService, type ContactUpdate } from '../../modules/member';
import type { NotificationProvider, OutgoingNotification } from '../../modules/notifications';
import { createSandboxNotifier, type SandboxNotifier } from '../../modules/notifications/sandbox';

/** The sandbox notifier, counting what reached it (what a real provider would have been asked to send). */
export function countingSandbox(): SandboxNotifier & { calls: OutgoingNotification[] } {
  const sandbox = createSandboxNotifier({ production: false });
  const calls: OutgoingNotification[] = [];
  const provider: NotificationProvider = {
    name: sandbox.name,
    send: async (notification) => {
      calls.push(notification);
      return sandbox.send(notification);
    },
  };
  return Object.assign(provider, { calls, failNext: sandbox.failNext });
}

/** A member with the given contact details. */
export async function buyer(pool: Pool, memberId: string, contact: ContactUpdate): Promise<string> {
  await createMemberService({ pool }).createMember({ id: memberId, name: `Buyer ${memberId}` });
  await createMemberContacts({ pool }).updateContact(memberId, contact);
  return memberId;
}

export interface SentRow {
  event_id: string;
  event_type: string;
  channel: string;
  member_id: string;
  order_id: string | null;
  template: string;
  status: string;
  skip_reason: string | null;
  provider: string | null;
  recipient: string | null;
  content: { text: string; params?: Record<string, string>; data?: Record<string, { value: string }>; subject?: string; page?: string };
  provider_message_id: string | null;
}

export async function sentFor(pool: Pool, eventId: string): Promise<Record<string, SentRow>> {
  const rows = await pool.query<SentRow>('SELECT * FROM notifications.sent WHERE event_id = $1 ORDER BY channel', [eventId]);
  return Object.fromEntries(rows.rows.map((row) => [row.channel, row]));
}

/** An event in the contract's shape (modules/events/types.ts), as the outbox delivers it. */
export function event(type: string, orderId: string, customerId: string | null, data: Record<string, unknown>, suffix: string): OutboxEvent {
  return { eventId: `${orderId}:${suffix}`, type, version: 1, orderId, customerId, occurredAt: '2026-12-01T02:00:00.000Z', data, seq: 1 };
}
