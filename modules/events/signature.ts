import { signWebhook, verifyWebhookSignature } from '../finance/webhook-signature';

/**
 * Deliveries are signed with the scheme the engine itself accepts from payment providers
 * (modules/finance/webhook-signature.ts): `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`
 * keyed by the subscription's secret. A subscriber recomputes the HMAC over the exact bytes it
 * received and refuses a timestamp far from its clock (replay protection).
 */
export const EVENT_SIGNATURE_HEADER = 'X-Event-Signature';

export function signEvent(secret: string, rawBody: string, unixSeconds: number = Math.floor(Date.now() / 1000)): string {
  return signWebhook(secret, rawBody, unixSeconds);
}

export function verifyEventSignature(secret: string, header: string | undefined, rawBody: string | Buffer, toleranceSeconds = 300): boolean {
  return verifyWebhookSignature(secret, header, rawBody, toleranceSeconds);
}
