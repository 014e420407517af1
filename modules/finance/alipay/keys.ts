import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/**
 * Keys arrive as PEM (PKCS#1 or PKCS#8 / SPKI) or as the bare base64 body Alipay's key tool shows.
 * Normalised here to one PEM form, so the SDK is always told the right key type.
 */
export function privateKeyPem(text: string): string {
  const key = parseKey(text, [
    (der) => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
    (der) => createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }),
  ], createPrivateKey);
  return key.export({ format: 'pem', type: 'pkcs1' }).toString();
}

export function publicKeyPem(text: string): string {
  const key = parseKey(text, [
    (der) => createPublicKey({ key: der, format: 'der', type: 'spki' }),
    (der) => createPublicKey({ key: der, format: 'der', type: 'pkcs1' }),
  ], createPublicKey);
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

function parseKey(text: string, fromDer: ((der: Buffer) => KeyObject)[], fromPem: (pem: string) => KeyObject): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return fromPem(trimmed);
  const der = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64');
  for (const attempt of fromDer) {
    try {
      return attempt(der);
    } catch {
      // try the next encoding
    }
  }
  throw new Error('not an RSA key in PEM or base64 DER form');
}
