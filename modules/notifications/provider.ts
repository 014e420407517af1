import type { Channel } from './channels';
import type { RenderedMessage } from './templates';

/** One message for one buyer on one channel. */
export interface OutgoingNotification {
  /** `<eventId>:<channel>`: the same notification always has the same key (providers that de-duplicate use it). */
  key: string;
  channel: Channel;
  /** Mobile number, WeChat openid or email address. */
  recipient: string;
  message: RenderedMessage;
}

/**
 * Who delivers notifications: the sandbox (development and tests), or a real adapter. `send` resolves
 * once the provider accepted the message and throws when it did not (the event is delivered again, and
 * the ledger's row makes sure a message accepted once is not sent twice).
 */
export interface NotificationProvider {
  readonly name: string;
  send(notification: OutgoingNotification): Promise<{ messageId: string }>;
}

/**
 * The shape of a production adapter, not implemented yet: Tencent Cloud SMS (短信, template id +
 * parameters, signed with the SMS signature), WeChat subscription messages (`subscribeMessage.send`
 * with the official account's access token, template id, page and data) and Tencent Cloud SES for
 * email. Until it is written, production runs with NOTIFICATIONS_PROVIDER=disabled (see README);
 * nothing in the configuration can select this stub, and calling it fails loudly.
 */
export interface TencentCloudNotifierSettings {
  secretId: string;
  secretKey: string;
  smsSdkAppId: string;
  smsSignName: string;
  wechatAppId: string;
  wechatAppSecret: string;
  sesFromAddress: string;
  /** Our template names (`order.paid/sms`...) → the ids registered with each service. */
  templateIds: Record<string, string>;
}

export function createTencentCloudNotifier(_settings: TencentCloudNotifierSettings): NotificationProvider {
  return {
    name: 'tencent-cloud',
    async send(notification) {
      throw new Error(`tencent-cloud notifier is not configured (not implemented): ${notification.key} was not sent`);
    },
  };
}
