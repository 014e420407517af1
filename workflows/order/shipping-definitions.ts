/**
 * Where an order ships and where it was sold (issue 13): shared by workflow and API code; types and
 * message definitions only. The address is personal data: it travels in workflow payloads (encrypted
 * by the payload codec) and is kept by the logistics module; never in search attributes, memo,
 * the projected view, the timeline or logs.
 */
export interface ShippingAddress {
  recipient: string;
  /** A mainland mobile or E.164. */
  mobile: string;
  /** GB/T 2260 codes, validated by the API against logistics.regions. */
  provinceCode: string;
  cityCode: string;
  districtCode: string;
  street: string;
  postcode?: string;
}

export const SALES_CHANNELS = ['app', 'mini_program', 'h5', 'live_stream', 'pos'] as const;
export type SalesChannelKind = (typeof SALES_CHANNELS)[number];

/** Where the order was placed: a live-stream room or a store for those channels. */
export interface SalesChannel {
  kind: SalesChannelKind;
  /** live_stream: the room. */
  roomId?: string;
  /** pos: the store. */
  storeId?: string;
}

/** `live_stream:room_8`, `pos:store_sh01`, `app`: how campaign rules and credentials name a channel. */
export function channelName(channel: SalesChannel): string {
  if (channel.kind === 'live_stream' && channel.roomId) return `live_stream:${channel.roomId}`;
  if (channel.kind === 'pos' && channel.storeId) return `pos:${channel.storeId}`;
  return channel.kind;
}

/** The channel a name stands for (`live_stream:room_8`, `pos:store_1`, `h5`); undefined when it names none. */
export function parseChannelName(name: string): SalesChannel | undefined {
  const [kind, place, ...rest] = name.split(':');
  if (rest.length > 0 || !(SALES_CHANNELS as readonly string[]).includes(kind)) return undefined;
  const channelKind = kind as SalesChannelKind;
  if (channelKind === 'live_stream' || channelKind === 'pos') {
    if (!place || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(place)) return undefined;
    return channelKind === 'live_stream' ? { kind: channelKind, roomId: place } : { kind: channelKind, storeId: place };
  }
  return place === undefined ? { kind: channelKind } : undefined;
}

/** A campaign's channel rule: `live_stream` admits every room, `live_stream:room_8` only that room. */
export function channelAllowed(allowed: readonly string[] | undefined, channel: SalesChannel): boolean {
  if (!allowed || allowed.length === 0) return true;
  return allowed.includes(channel.kind) || allowed.includes(channelName(channel));
}

/** What the order shows of its shipping (no personal data): which address version, what freight. */
export interface ShippingView {
  addressVersion: number;
  freight: { freightFen: number; baseFen: number; surchargeFen: number; freeShipping: boolean; templateId: string | null };
}

/** The buyer changes the address before shipment (validated by the API first; the policy decides). */
export interface ChangeAddress {
  address: ShippingAddress;
  by: string;
}
