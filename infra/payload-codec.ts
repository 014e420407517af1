import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Encrypts every payload the engine puts in Temporal (workflow inputs, results, messages, activity
 * arguments: addresses, phones, free-text reasons) with AES-256-GCM. Loaded by the worker and by every
 * client (API, scripts), so histories on the Temporal server hold ciphertext only; authorised ops read
 * them in the UI through the codec endpoints (/codec/decode). Search attributes are not payloads of
 * this codec and must never carry PII.
 *
 * Keys: `keyId:base64(32 bytes)` pairs; the first encrypts, all decrypt. Rotation = add a new key in
 * front and keep the old ones for as long as histories encrypted with them are kept.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** Parses PAYLOAD_CODEC_KEYS: `k2:base64,k1:base64` (first = current). */
export function parseCodecKeys(text: string): CodecKey[] {
  return text
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const [id, encoded] = entry.split(':');
      const key = Buffer.from(encoded ?? '', 'base64');
      if (!id || key.length !== 32) throw new Error(`PAYLOAD_CODEC_KEYS: key ${id || '(unnamed)'} must be 32 bytes, base64`);
      return { id, key };
    });
}

export function createEncryptionCodec(keys: CodecKey[]): PayloadCodec {
  if (keys.length === 0) throw new Error('an encryption codec needs at least one key');
  const [current] = keys;
  const byId = new Map(keys.map((entry) => [entry.id, entry.key]));
  const text = new TextEncoder();
  const fromText = new TextDecoder();

  function encrypt(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { [METADATA_ENCODING_KEY]: text.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: text.encode(current.id) }, data };
  }

  function decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || fromText.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyId = payload.metadata?.[KEY_ID_METADATA] ? fromText.decode(payload.metadata[KEY_ID_METADATA]) : '';
    const key = byId.get(keyId);
    if (!key) throw new Error(`payload encrypted with unknown key ${keyId}`);
    const data = Buffer.from(payload.data ?? []);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    return temporal.api.common.v1.Payload.decode(plain);
  }

  return {
    async encode(payloads) {
      return payloads.map(encrypt);
    },
    async decode(payloads) {
      return payloads.map(decrypt);
    },
  };
}

/** The codecs of a process: none when no keys are configured (development), else the encryption codec. */
export function payloadCodecsFor(keysText: string | undefined): PayloadCodec[] {
  return keysText ? [createEncryptionCodec(parseCodecKeys(keysText))] : [];
}
