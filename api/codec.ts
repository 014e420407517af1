import type { Payload, PayloadCodec } from '@temporalio/common';
import cors from 'cors';
import { Router } from 'express';
import { z } from 'zod';
import { authenticate, requireRole, type AuthSettings } from './auth';
import { problemResponse, registry } from './openapi';
import { unprocessable } from './problem';

/**
 * The codec server of the Temporal UI (and `temporal --codec-endpoint`): the UI sends the payloads of a
 * history it shows, this decodes them with the engine's codec (infra/payload-codec.ts). Staff only
 * (support, finance, admin: a bearer token, which the UI passes when "pass access token" is on, or an
 * API key); CORS allows only the UI's origins. Protocol: POST {payloads: [{metadata: {k: base64}, data: base64}]}.
 */
export interface CodecSettings {
  codecs: PayloadCodec[];
  /** Origins of the Temporal UI, e.g. http://127.0.0.1:8233. */
  corsOrigins: string[];
}

const base64 = z.string().max(4_000_000).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const CodecBody = registry.register(
  'CodecPayloads',
  z.object({ payloads: z.array(z.object({ metadata: z.record(z.string().max(200), base64).optional(), data: base64.optional() })).max(1_000) }),
);
for (const [path, summary] of [
  ['/codec/decode', 'Temporal UI codec server: decrypt payloads (staff only)'],
  ['/codec/encode', 'Temporal UI codec server: encrypt payloads (staff only)'],
] as const) {
  registry.registerPath({
    method: 'post',
    path,
    summary,
    security: [{ bearerAuth: [] }, { apiKey: [] }],
    request: { body: { content: { 'application/json': { schema: CodecBody } } } },
    responses: {
      200: { description: 'The payloads, encoded or decoded', content: { 'application/json': { schema: CodecBody } } },
      401: problemResponse('Not authenticated'),
      403: problemResponse('Not staff'),
    },
  });
}

type JsonPayload = z.infer<typeof CodecBody>['payloads'][number];

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? []).toString('base64'),
  };
}

export function codecRouter(settings: CodecSettings, auth: AuthSettings): Router {
  const router = Router();
  router.use(
    '/codec',
    cors({ origin: settings.corsOrigins, credentials: true, methods: ['POST'], allowedHeaders: ['Authorization', 'Content-Type', 'X-Namespace', 'X-API-Key'] }),
  );
  router.use('/codec', authenticate(auth), requireRole('support', 'finance'));
  const run = (direction: 'encode' | 'decode') => async (payloads: Payload[]) => {
    let current = payloads;
    // Decoding runs the codecs in reverse order of encoding.
    const chain = direction === 'encode' ? settings.codecs : [...settings.codecs].reverse();
    for (const codec of chain) current = await codec[direction](current);
    return current;
  };
  for (const direction of ['encode', 'decode'] as const) {
    router.post(`/codec/${direction}`, async (req, res) => {
      const body = CodecBody.parse(req.body);
      let payloads: Payload[];
      try {
        payloads = await run(direction)(body.payloads.map(fromJson));
      } catch {
        // A tampered payload or one under a key this engine does not have: the caller's data, not our fault.
        throw unprocessable('codec-failed', `the payloads cannot be ${direction}d with this engine's keys`);
      }
      res.json({ payloads: payloads.map(toJson) });
    });
  }
  return router;
}
