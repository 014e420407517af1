/** The ways a buyer is told: SMS, a WeChat subscription message (订阅消息), email. */
export const CHANNELS = ['sms', 'wechat', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The events a buyer hears about (modules/events names them); everything else is for partner systems. */
export const NOTIFIABLE_EVENT_TYPES = ['presale.final_payment_due', 'order.paid', 'parcel.shipped', 'refund.paid', 'group.failed'] as const;
export type NotifiableEventType = (typeof NOTIFIABLE_EVENT_TYPES)[number];

export function isNotifiable(type: string): type is NotifiableEventType {
  return (NOTIFIABLE_EVENT_TYPES as readonly string[]).includes(type);
}
