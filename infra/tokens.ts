import { createSecretKey } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { idSchema } from '../modules/shared/validation';

/**
 * Bearer tokens of the engine's callers. Customers carry a JWT (`sub` = member id, `role` customer)
 * signed with the customer key; staff (support, finance, admin, and warehouse or carrier people) one
 * signed with the staff key, or one from an identity provider's JWKS. A customer key can never make a
 * staff token: the key is chosen by the claimed role, and the role is only believed once that key
 * verified it. Used by the API (authenticate) and by activities that verify an actor (verifyActorToken).
 */
// merchant: the shop's own people (reports, back office, the dashboard).
export const ROLES = ['customer', 'warehouse', 'carrier', 'support', 'finance', 'admin', 'merchant'] as const;
export type Role = (typeof ROLES)[number];

/** Every warehouse: a key for a central dispatch team (and the only scope that ships campaign stock). */
export const ALL_WAREHOUSES = '*';

export interface Principal {
  subject: string;
  role: Role;
  /** Role warehouse: the warehouses it acts for (ALL_WAREHOUSES for every one). */
  warehouseIds?: string[];
  /** The sales channel its orders come from (`mini_program`, `live_stream:room_8`, `pos:store_1`); unset: the app. */
  channel?: string;
}

export interface AuthSettings {
  /** HS256 secret of customer tokens. */
  jwtSecret: string;
  /** HS256 secret of staff tokens; unset (and no JWKS): staff use API keys only. Must differ from jwtSecret. */
  staffJwtSecret?: string;
  /** An identity provider's JWKS for staff tokens (RS256/ES256/EdDSA), instead of staffJwtSecret. */
  staffJwksUrl?: string;
  /** `iss` and `aud` every token must carry. */
  issuer?: string;
  audience?: string;
  /** Longest lifetime (exp − iat) a token may claim, in seconds. */
  maxTokenLifetimeSeconds?: number;
  /** API key → principal */
  apiKeys: Map<string, Principal>;
}

export const DEFAULT_ISSUER = 'order-engine';
export const DEFAULT_AUDIENCE = 'order-engine-api';
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

/**
 * Parses `key=role:subject,...` (API_KEYS). A warehouse key names its warehouses after `@`:
 * `key=warehouse:team_sh@wh_shanghai+wh_suzhou` (or `@*` for all); without `@` the subject is its one warehouse.
 * A key placing orders may name their sales channel after `#`: `key=admin:till_3#pos:store_sh01`.
 */
export function parseApiKeys(text: string | undefined): Map<string, Principal> {
  const keys = new Map<string, Principal>();
  for (const entry of (text ?? '').split(',').filter(Boolean)) {
    const [key, rest] = entry.split('=');
    const [role, ...namedParts] = rest.split(':');
    const [scoped, channel] = namedParts.join(':').split('#');
    const [subject, scope] = scoped.split('@');
    const principal: Principal = { role: role as Role, subject };
    if (role === 'warehouse') principal.warehouseIds = (scope ?? subject).split('+');
    if (channel) principal.channel = channel;
    keys.set(key, principal);
  }
  return keys;
}

/** The `channel` claim: where the token's orders come from (api/shipping.ts reads it). */
const CHANNEL_CLAIM = /^(app|mini_program|h5|live_stream|pos)(:[A-Za-z0-9][A-Za-z0-9_.-]{0,63})?$/;

const claimsSchema = z.object({
  sub: idSchema,
  role: z.enum(ROLES),
  warehouses: z.array(z.union([idSchema, z.literal(ALL_WAREHOUSES)])).min(1).max(50).optional(),
  channel: z.string().regex(CHANNEL_CLAIM).optional(),
});

/**
 * A token for development and tests (`npm run token`, test support): signed with the key of its role,
 * with iss, aud, iat and exp. Production staff tokens come from the identity provider.
 */
export function issueToken(settings: AuthSettings, principal: Principal, expiresInSeconds = 12 * 3600): string {
  const secret = principal.role === 'customer' ? settings.jwtSecret : settings.staffJwtSecret;
  if (!secret) throw new Error(`no key for ${principal.role} tokens: set JWT_STAFF_SECRET`);
  const claims = {
    role: principal.role,
    ...(principal.warehouseIds ? { warehouses: principal.warehouseIds } : {}),
    ...(principal.channel ? { channel: principal.channel } : {}),
  };
  return jwt.sign(claims, secret, {
    subject: principal.subject,
    algorithm: 'HS256',
    expiresIn: expiresInSeconds,
    issuer: settings.issuer ?? DEFAULT_ISSUER,
    audience: settings.audience ?? DEFAULT_AUDIENCE,
  });
}

/** Any bad token: why it failed is for no one outside (the API answers only "invalid token"). */
export class InvalidTokenError extends Error {
  constructor() {
    super('invalid token');
    this.name = 'InvalidTokenError';
  }
}
const invalidToken = () => new InvalidTokenError();

/** Verifies bearer tokens against the customer key or the staff key (or JWKS), chosen by the claimed role. */
export function createTokenVerifier(settings: AuthSettings) {
  // Key objects made once: given the secret's bytes, jose makes a key object on every verification.
  const customerKey = createSecretKey(Buffer.from(settings.jwtSecret, 'utf8'));
  const staffSecret = settings.staffJwtSecret && settings.staffJwtSecret !== settings.jwtSecret ? createSecretKey(Buffer.from(settings.staffJwtSecret, 'utf8')) : undefined;
  const staffJwks: JWTVerifyGetKey | undefined = settings.staffJwksUrl ? createRemoteJWKSet(new URL(settings.staffJwksUrl)) : undefined;
  const maxLifetime = settings.maxTokenLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  const options = {
    issuer: settings.issuer ?? DEFAULT_ISSUER,
    audience: settings.audience ?? DEFAULT_AUDIENCE,
    requiredClaims: ['exp', 'iat', 'sub'],
    maxTokenAge: maxLifetime,
  };

  return async function verifyToken(token: string): Promise<Principal> {
    let claimedRole: unknown;
    try {
      claimedRole = decodeJwt(token).role;
    } catch {
      throw invalidToken();
    }
    let payload;
    try {
      if (claimedRole === 'customer') {
        ({ payload } = await jwtVerify(token, customerKey, { ...options, algorithms: ['HS256'] }));
      } else if (staffJwks) {
        ({ payload } = await jwtVerify(token, staffJwks, { ...options, algorithms: ['RS256', 'ES256', 'EdDSA'] }));
      } else if (staffSecret) {
        ({ payload } = await jwtVerify(token, staffSecret, { ...options, algorithms: ['HS256'] }));
      } else {
        throw invalidToken();
      }
    } catch {
      throw invalidToken();
    }
    // exp is required and bounded: a token may not outlive the longest lifetime we issue.
    if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number' || payload.exp - payload.iat > maxLifetime) throw invalidToken();
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success || claims.data.role !== claimedRole) throw invalidToken();
    const principal: Principal = { subject: claims.data.sub, role: claims.data.role };
    if (claims.data.channel) principal.channel = claims.data.channel;
    if (claims.data.role === 'warehouse') {
      if (!claims.data.warehouses) throw invalidToken();
      principal.warehouseIds = claims.data.warehouses;
    }
    return principal;
  };
}

