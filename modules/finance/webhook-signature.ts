import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Sandbox-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "${t}.${rawBody}">`, as the sandbox sends it. */
export function signWebhook(secret: string, rawBody: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, `${unixSeconds}.${rawBody}`)}`;
}

/**
 * True when `header` signs exactly `rawBody` with `secret` and its timestamp is within
 * `toleranceSeconds` of now (a replayed old delivery is refused). The comparison is timing-safe.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Buffer,
  toleranceSeconds: number,
  nowUnixSeconds: number = Math.floor(Date.now() / 1000),
): boolean {
  if (!header) return false;
  const parts = new Map(
    header.split(',').map((part) => {
      const separator = part.indexOf('=');
      return [part.slice(0, separator).trim(), part.slice(separator + 1).trim()] as const;
    }),
  );
  const timestampText = parts.get('t');
  const signature = parts.get('v1');
  if (!timestampText || !signature || !/^\d+$/.test(timestampText) || !/^[0-9a-f]{64}$/i.test(signature)) return false;
  const timestamp = Number(timestampText);
  if (Math.abs(nowUnixSeconds - timestamp) > toleranceSeconds) return false;
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const expected = Buffer.from(hmacHex(secret, `${timestampText}.${body}`), 'hex');
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}
