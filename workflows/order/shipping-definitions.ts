import { defineUpdate } from '@temporalio/workflow';

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
export const changeAddressUpdate = defineUpdate<{ addressVersion: number }, [ChangeAddress]>('changeAddress');
