import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook subscriber may be (production): on a public address, or in a network ops list in
 * EVENTS_SUBSCRIBER_NETWORKS (a merchant's ERP on the intranet). Never, unless listed, on loopback,
 * a private or shared network, link-local (where clouds serve instance metadata and credentials),
 * or a reserved range: an admin credential must not turn event delivery into a way to reach the
 * engine's own neighbours. Checked when a subscription is created and again at every connection
 * (the address a name resolves to then), so a name that later resolves elsewhere is refused too.
 */
export interface SubscriberNetworkPolicy {
  /** Networks allowed although not public (CIDRs, as configured). */
  readonly allowed: BlockList;
  readonly allowedCidrs: readonly string[];
}

const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local: instance metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64 (reaches IPv4 behind it)
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

export class SubscriberAddressRefusedError extends Error {
  constructor(readonly host: string, readonly address: string) {
    super(`${host} is at ${address}, which is not a public address nor in EVENTS_SUBSCRIBER_NETWORKS`);
    this.name = 'SubscriberAddressRefusedError';
  }
}

/** The policy of these allowed networks (CIDRs: `10.1.0.0/16`, `fd00::/8`); a bad one throws. */
export function subscriberNetworkPolicy(allowedCidrs: readonly string[]): SubscriberNetworkPolicy {
  const allowed = new BlockList();
  for (const cidr of allowedCidrs) {
    const [network, prefix] = cidr.split('/');
    const family = isIP(network ?? '');
    if (!family || prefix === undefined || !/^\d{1,3}$/.test(prefix)) throw new Error(`not a network in CIDR notation: ${cidr}`);
    allowed.addSubnet(network, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
  }
  return { allowed, allowedCidrs: [...allowedCidrs] };
}

/** An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address it is. */
function normalized(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1], family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** Pure: whether a subscriber at this IP address may be delivered to. */
export function addressAllowed(policy: SubscriberNetworkPolicy, ip: string): boolean {
  const { address, family } = normalized(ip);
  if (policy.allowed.check(address, family)) return true;
  return !NOT_PUBLIC.check(address, family);
}

/** A URL's host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * A `lookup` for http(s).request that resolves as dns.lookup does and refuses the connection when
 * any address the name has is refused (so none of them is tried).
 */
export function guardedLookup(policy: SubscriberNetworkPolicy) {
  return (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refused = addresses.find((entry) => !addressAllowed(policy, entry.address));
      if (refused) return callback(Object.assign(new SubscriberAddressRefusedError(hostname, refused.address), { code: 'EADDRREFUSED' }), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Resolves the URL's host now and refuses it as a delivery would (SubscriberAddressRefusedError). */
export async function assertSubscriberUrlAllowed(policy: SubscriberNetworkPolicy, url: string): Promise<void> {
  const host = hostOf(new URL(url));
  if (isIP(host)) {
    if (!addressAllowed(policy, host)) throw new SubscriberAddressRefusedError(host, host);
    return;
  }
  await new Promise<void>((resolve, reject) => {
    guardedLookup(policy)(host, { all: true }, (error) => (error ? reject(error) : resolve()));
  });
}
