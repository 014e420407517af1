import type { Pool } from 'pg';
import type { EventConsumer, OutboxEvent } from '../events/types';
import { createMemberContacts, type MemberContact } from '../member';
import { withTransaction } from '../shared/db';
import { DomainError } from '../shared/errors';
import { CHANNELS, isNotifiable, type Channel } from './channels';
import { createNotificationPreferences } from './preferences';
import type { NotificationProvider } from './provider';
import { renderAll, type RenderContext, type RenderedMessage } from './templates';

export interface NotificationConsumerDeps {
  pool: Pool;
  provider: NotificationProvider;
  /** The store's time zone (STORE_TIMEZONE) for deadlines in the texts. */
  timeZone?: string;
  /** The SMS signature and email sender line. */
  signName?: string;
}

type SkipReason = 'OPTED_OUT' | 'NO_CONTACT';

const RECIPIENT: Record<Channel, (contact: MemberContact) => string | null> = {
  sms: (contact) => contact.mobile,
  wechat: (contact) => contact.wechatOpenId,
  email: (contact) => contact.email,
};

/**
 * Buyer notifications as an EventConsumer (modules/events/types.ts): for each event a buyer hears
 * about, one message per channel, unless the buyer opted out or left no contact for it. Idempotent
 * by event id: each (event, channel) is one row of notifications.sent, claimed before the provider is
 * asked and marked SENT after, under a row lock, so a re-delivered or concurrently delivered event
 * sends nothing twice; a send that failed (row still SENDING) is tried again on the next delivery.
 */
export function createNotificationConsumer(deps: NotificationConsumerDeps): EventConsumer {
  const { pool, provider } = deps;
  const contacts = createMemberContacts({ pool });
  const preferences = createNotificationPreferences({ pool });
  const context: RenderContext = { signName: deps.signName ?? '订单中心', timeZone: deps.timeZone ?? 'Asia/Shanghai' };

  async function contactOf(memberId: string): Promise<MemberContact> {
    try {
      return await contacts.getContact(memberId);
    } catch (error) {
      // A buyer unknown to the member module has no way to be reached: recorded as NO_CONTACT, not retried forever.
      if (error instanceof DomainError && error.code === 'MEMBER_NOT_FOUND') return { memberId, mobile: null, email: null, wechatOpenId: null };
      throw error;
    }
  }

  async function deliverOnce(event: OutboxEvent, memberId: string, message: RenderedMessage, recipient: string | null, skip: SkipReason | undefined): Promise<void> {
    const channel = message.channel;
    const claim = [event.eventId, event.type, channel, memberId, event.orderId, message.template, skip ? 'SKIPPED' : 'SENDING', skip ?? null, skip ? null : recipient, JSON.stringify(message)];
    await pool.query(
      `INSERT INTO notifications.sent (event_id, event_type, channel, member_id, order_id, template, status, skip_reason, recipient, content)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (event_id, channel) DO NOTHING`,
      claim,
    );
    await withTransaction(pool, async (client) => {
      const row = await client.query<{ id: string; status: string }>('SELECT id, status FROM notifications.sent WHERE event_id = $1 AND channel = $2 FOR UPDATE', [event.eventId, channel]);
      if (row.rows[0].status !== 'SENDING') return; // sent or skipped by an earlier delivery
      const id = row.rows[0].id;
      if (skip || !recipient) {
        // Opted out (or contact removed) since an earlier attempt that failed: it stays unsent.
        await client.query(`UPDATE notifications.sent SET status = 'SKIPPED', skip_reason = $2 WHERE id = $1`, [id, skip ?? 'NO_CONTACT']);
        return;
      }
      const { messageId } = await provider.send({ key: `${event.eventId}:${channel}`, channel, recipient, message });
      await client.query(
        `UPDATE notifications.sent SET status = 'SENT', provider = $2, recipient = $3, content = $4, provider_message_id = $5, sent_at = now() WHERE id = $1`,
        [id, provider.name, recipient, JSON.stringify(message), messageId],
      );
    });
  }

  return {
    name: 'notifications',
    accepts: isNotifiable,
    async consume(event: OutboxEvent): Promise<void> {
      if (!isNotifiable(event.type) || !event.customerId) return;
      const messages = renderAll(event.type, event, context);
      const contact = await contactOf(event.customerId);
      const optOuts = await preferences.optOuts(event.customerId);
      for (const channel of CHANNELS) {
        const recipient = RECIPIENT[channel](contact);
        const skip: SkipReason | undefined = optOuts.has(channel, event.type) ? 'OPTED_OUT' : recipient ? undefined : 'NO_CONTACT';
        await deliverOnce(event, event.customerId, messages[channel], recipient, skip);
      }
    },
  };
}
