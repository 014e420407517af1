import { z } from 'zod';
import type { OutboxEvent } from '../events/types';
import type { Channel, NotifiableEventType } from './channels';
import { clip, formatFen, formatInstant } from './format';

/**
 * What a buyer is sent for each event, per channel, in Chinese. A template is named
 * `<event type>/<channel>` (e.g. `order.paid/sms`); a real provider maps that name to its own
 * registered template (an SMS template code, a WeChat subscription template id) and passes the
 * parameters, and `text` is the message as the buyer reads it (what the sandbox records).
 * Amounts come from integer fen; instants are shown in the store's time zone.
 */
export type RenderedMessage =
  | { channel: 'sms'; template: string; params: Record<string, string>; text: string }
  | { channel: 'wechat'; template: string; page: string; data: Record<string, { value: string }>; text: string }
  | { channel: 'email'; template: string; subject: string; text: string };

export interface RenderContext {
  /** The store's name: the SMS signature (【签名】) and the email's sender line. */
  signName: string;
  timeZone: string;
}

interface Texts {
  sms: { params: Record<string, string>; text: string };
  wechat: { data: Record<string, string>; text: string };
  email: { subject: string; text: string };
}

interface TemplateSet<Data> {
  /** The fields of the event's data the texts use (modules/events/schema.ts), checked before rendering. */
  data: z.ZodType<Data>;
  texts(orderId: string, data: Data, context: RenderContext): Texts;
}

const fen = z.number().int();
const define = <Data>(set: TemplateSet<Data>) => set;

const TEMPLATES: Record<NotifiableEventType, TemplateSet<any>> = {
  'presale.final_payment_due': define({
    data: z.object({ finalBeforeCouponFen: fen, finalEnd: z.string() }),
    texts(orderId, data, { signName, timeZone }) {
      const amount = formatFen(data.finalBeforeCouponFen);
      const deadline = formatInstant(data.finalEnd, timeZone);
      return {
        sms: {
          params: { orderId, amount, deadline },
          text: `【${signName}】您的预售订单${orderId}已开始支付尾款，尾款${amount}，请于${deadline}前完成支付，逾期订单将关闭。`,
        },
        wechat: {
          data: { character_string1: orderId, amount2: amount, time3: deadline, thing4: '预售尾款已开放支付，请按时付款' },
          text: `预售尾款支付提醒：订单${orderId}，尾款${amount}，截止${deadline}。`,
        },
        email: {
          subject: `尾款支付提醒：订单 ${orderId}`,
          text: `您好：\n\n您的预售订单 ${orderId} 已进入尾款支付阶段，尾款 ${amount}（可使用优惠券抵扣）。\n请于 ${deadline} 前完成支付，逾期订单将关闭。\n\n${signName}`,
        },
      };
    },
  }),
  'order.paid': define({
    data: z.object({ paidFen: fen }),
    texts(orderId, data, { signName }) {
      const amount = formatFen(data.paidFen);
      return {
        sms: { params: { orderId, amount }, text: `【${signName}】您的订单${orderId}已支付成功，实付${amount}，我们将尽快为您发货。` },
        wechat: { data: { character_string1: orderId, amount2: amount, thing3: '支付成功，等待发货' }, text: `支付成功：订单${orderId}，实付${amount}。` },
        email: { subject: `支付成功：订单 ${orderId}`, text: `您好：\n\n您的订单 ${orderId} 已支付成功，实付 ${amount}。我们将尽快为您发货。\n\n${signName}` },
      };
    },
  }),
  'parcel.shipped': define({
    data: z.object({ parcelId: z.string(), carrier: z.string(), trackingNumber: z.string() }),
    texts(orderId, data, { signName }) {
      const carrier = clip(data.carrier, 20);
      const tracking = clip(data.trackingNumber, 32);
      return {
        sms: { params: { orderId, carrier, trackingNumber: tracking }, text: `【${signName}】您的订单${orderId}已发货，${carrier}运单号${tracking}，请留意查收。` },
        wechat: {
          data: { character_string1: orderId, thing2: carrier, character_string3: tracking, thing4: '您的包裹已发出，请留意查收' },
          text: `发货通知：订单${orderId}，${carrier}，运单号${tracking}。`,
        },
        email: { subject: `您的订单 ${orderId} 已发货`, text: `您好：\n\n您的订单 ${orderId} 已发货。\n承运商：${carrier}\n运单号：${tracking}\n\n请留意查收。\n\n${signName}` },
      };
    },
  }),
  'refund.paid': define({
    data: z.object({ requestId: z.string(), amountFen: fen }),
    texts(orderId, data, { signName }) {
      const amount = formatFen(data.amountFen);
      return {
        sms: { params: { orderId, amount }, text: `【${signName}】您的订单${orderId}退款${amount}已原路退回，到账时间以支付渠道为准。` },
        wechat: { data: { character_string1: orderId, amount2: amount, thing3: '退款已原路退回' }, text: `退款到账通知：订单${orderId}，退款${amount}。` },
        email: { subject: `退款已退回：订单 ${orderId}`, text: `您好：\n\n您的订单 ${orderId} 的退款 ${amount} 已原路退回，到账时间以支付渠道为准。\n\n${signName}` },
      };
    },
  }),
  'group.failed': define({
    data: z.object({ groupId: z.string() }),
    texts(orderId, _data, { signName }) {
      return {
        sms: { params: { orderId }, text: `【${signName}】很遗憾，您参与的拼团未能成团，订单${orderId}已全额退款，款项将原路退回。` },
        wechat: { data: { character_string1: orderId, thing2: '拼团未成团，已全额退款' }, text: `拼团未成团：订单${orderId}已全额退款。` },
        email: { subject: `拼团未成团，订单 ${orderId} 已退款`, text: `您好：\n\n很遗憾，您参与的拼团未能在时限内成团。订单 ${orderId} 已全额退款，款项将原路退回。\n\n${signName}` },
      };
    },
  }),
};

/** The message of one channel for an event; throws when the event lacks what its texts need. */
export function renderAll(type: NotifiableEventType, event: OutboxEvent, context: RenderContext): Record<Channel, RenderedMessage> {
  const set = TEMPLATES[type];
  if (!event.orderId) throw new Error(`${event.eventId}: a ${type} event without an order id cannot be told to a buyer`);
  const texts = set.texts(event.orderId, set.data.parse(event.data), context);
  const name = (channel: Channel) => `${type}/${channel}`;
  return {
    sms: { channel: 'sms', template: name('sms'), ...texts.sms },
    wechat: {
      channel: 'wechat',
      template: name('wechat'),
      // WeChat opens this page of the mini program when the buyer taps the message.
      page: `pages/order/detail?orderId=${encodeURIComponent(event.orderId)}`,
      data: Object.fromEntries(Object.entries(texts.wechat.data).map(([key, value]) => [key, { value: key.startsWith('thing') ? clip(value, 20) : value }])),
      text: texts.wechat.text,
    },
    email: { channel: 'email', template: name('email'), ...texts.email },
  };
}
