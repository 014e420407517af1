import type { Pool } from 'pg';
import { z } from 'zod';
import { withTransaction } from '../shared/db';
import { CHANNELS, NOTIFIABLE_EVENT_TYPES, type Channel, type NotifiableEventType } from './channels';

/**
 * A buyer's opt-outs (notifications.opt_outs). A notification goes out on a channel for an event type
 * when both the channel and that (event type, channel) are on; everything is on until switched off.
 */
export interface NotificationPreferences {
  channels: Record<Channel, boolean>;
  events: Record<NotifiableEventType, Record<Channel, boolean>>;
}

const channelSwitches = z.object(Object.fromEntries(CHANNELS.map((channel) => [channel, z.boolean()])) as Record<Channel, z.ZodBoolean>).partial().strict();

/** A partial update: only what it names changes. */
export const preferencesUpdateSchema = z
  .object({
    channels: channelSwitches,
    events: z
      .object(Object.fromEntries(NOTIFIABLE_EVENT_TYPES.map((type) => [type, channelSwitches])) as Record<NotifiableEventType, typeof channelSwitches>)
      .partial()
      .strict(),
  })
  .partial()
  .strict();
export type PreferencesUpdate = z.input<typeof preferencesUpdateSchema>;

/** The whole channel: a row with this event type switches it off for every event. */
const WHOLE_CHANNEL = '*';

export interface OptOuts {
  has(channel: Channel, eventType: string): boolean;
}

export function createNotificationPreferences({ pool }: { pool: Pool }) {
  async function optOuts(db: Pick<Pool, 'query'>, memberId: string): Promise<OptOuts> {
    const rows = await db.query<{ channel: Channel; event_type: string }>('SELECT channel, event_type FROM notifications.opt_outs WHERE member_id = $1', [memberId]);
    const set = new Set(rows.rows.map((row) => `${row.channel}|${row.event_type}`));
    return { has: (channel, eventType) => set.has(`${channel}|${WHOLE_CHANNEL}`) || set.has(`${channel}|${eventType}`) };
  }

  async function read(db: Pick<Pool, 'query'>, memberId: string): Promise<NotificationPreferences> {
    const rows = await db.query<{ channel: Channel; event_type: string }>('SELECT channel, event_type FROM notifications.opt_outs WHERE member_id = $1', [memberId]);
    const off = new Set(rows.rows.map((row) => `${row.channel}|${row.event_type}`));
    const on = (channel: Channel, type: string) => !off.has(`${channel}|${type}`);
    const perChannel = (type: string) => Object.fromEntries(CHANNELS.map((channel) => [channel, on(channel, type)])) as Record<Channel, boolean>;
    return {
      channels: perChannel(WHOLE_CHANNEL),
      events: Object.fromEntries(NOTIFIABLE_EVENT_TYPES.map((type) => [type, perChannel(type)])) as NotificationPreferences['events'],
    };
  }

  return {
    /** What the consumer asks before each channel. */
    optOuts: (memberId: string) => optOuts(pool, memberId),

    get: (memberId: string) => read(pool, memberId),

    /** Applies a partial update in one transaction; returns before and after (for the audit row). */
    async update(memberId: string, input: PreferencesUpdate): Promise<{ before: NotificationPreferences; after: NotificationPreferences }> {
      const update = preferencesUpdateSchema.parse(input);
      const switches: { eventType: string; channel: Channel; on: boolean }[] = [
        ...Object.entries(update.channels ?? {}).map(([channel, on]) => ({ eventType: WHOLE_CHANNEL, channel: channel as Channel, on: on! })),
        ...Object.entries(update.events ?? {}).flatMap(([eventType, channels]) =>
          Object.entries(channels ?? {}).map(([channel, on]) => ({ eventType, channel: channel as Channel, on: on! })),
        ),
      ];
      return withTransaction(pool, async (client) => {
        // One buyer's updates take turns, so before/after describe exactly this change.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`notification-preferences:${memberId}`]);
        const before = await read(client, memberId);
        for (const { eventType, channel, on } of switches) {
          if (on) await client.query('DELETE FROM notifications.opt_outs WHERE member_id = $1 AND channel = $2 AND event_type = $3', [memberId, channel, eventType]);
          else {
            await client.query('INSERT INTO notifications.opt_outs (member_id, channel, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [memberId, channel, eventType]);
          }
        }
        return { before, after: await read(client, memberId) };
      });
    },
  };
}

export type NotificationPreferencesStore = ReturnType<typeof createNotificationPreferences>;
