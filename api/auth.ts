import type { Request, RequestHandler, Response } from 'express';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { idSchema } from '../modules/shared/validation';
import { ProblemError } from './problem';

/**
 * Who is calling. Customers carry a bearer token (JWT: `sub` = member id, `role` customer) signed with
 * the customer key; staff (support, finance, admin, and warehouse or carrier people) carry one signed
 * with the staff key, or one from an identity provider's JWKS. Machines may use a static API key
 * (`X-API-Key`). A customer key can never make a staff token: the key is chosen by the claimed role
 * and the role is only believed once that key verified it.
 */
export const ROLES = ['customer', 'warehouse', 'carrier', 'support', 'finance', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Every warehouse: a key for a central dispatch team (and the only scope that ships campaign stock). */
export const ALL_WAREHOUSES = '*';

export interface Principal {
  subject: string;
  role: Role;
  /** Role warehouse: the warehouses it acts for (ALL_WAREHOUSES for every one). */
  warehouseIds?: string[];
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
 */
export function parseApiKeys(text: string | undefined): Map<string, Principal> {
  const keys = new Map<string, Principal>();
  for (const entry of (text ?? '').split(',').filter(Boolean)) {
    const [key, rest] = entry.split('=');
    const [role, named] = rest.split(':');
    const [subject, scope] = named.split('@');
    const principal: Principal = { role: role as Role, subject };
    if (role === 'warehouse') principal.warehouseIds = (scope ?? subject).split('+');
    keys.set(key, principal);
  }
  return keys;
}

const claimsSchema = z.object({
  sub: idSchema,
  role: z.enum(ROLES),
  warehouses: z.array(z.union([idSchema, z.literal(ALL_WAREHOUSES)])).min(1).max(50).optional(),
});

/**
 * A token for development and tests (`npm run token`, test support): signed with the key of its role,
 * with iss, aud, iat and exp. Production staff tokens come from the identity provider.
 */
export function issueToken(settings: AuthSettings, principal: Principal, expiresInSeconds = 12 * 3600): string {
  const secret = principal.role === 'customer' ? settings.jwtSecret : settings.staffJwtSecret;
  if (!secret) throw new Error(`no key for ${principal.role} tokens: set JWT_STAFF_SECRET`);
  const claims = { role: principal.role, ...(principal.warehouseIds ? { warehouses: principal.warehouseIds } : {}) };
  return jwt.sign(claims, secret, {
    subject: principal.subject,
    algorithm: 'HS256',
    expiresIn: expiresInSeconds,
    issuer: settings.issuer ?? DEFAULT_ISSUER,
    audience: settings.audience ?? DEFAULT_AUDIENCE,
  });
}

/** The one answer to any bad credential: why it failed is for the log, not for the caller. */
const invalidToken = () => new ProblemError(401, 'unauthenticated', 'Authentication required', 'invalid token');

/** Verifies bearer tokens against the customer key or the staff key (or JWKS), chosen by the claimed role. */
export function createTokenVerifier(settings: AuthSettings) {
  const customerKey = new TextEncoder().encode(settings.jwtSecret);
  const staffSecret = settings.staffJwtSecret && settings.staffJwtSecret !== settings.jwtSecret ? new TextEncoder().encode(settings.staffJwtSecret) : undefined;
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
    if (claims.data.role === 'warehouse') {
      if (!claims.data.warehouses) throw invalidToken();
      principal.warehouseIds = claims.data.warehouses;
    }
    return principal;
  };
}

/** The caller of a request, from its API key or bearer token; 401 "invalid token" for anything else. */
export function createCredentialsCheck(settings: AuthSettings) {
  const verifyToken = createTokenVerifier(settings);
  return async function principalFor(req: Request, res: Response): Promise<Principal> {
    const apiKey = req.get('x-api-key');
    if (apiKey) {
      const principal = settings.apiKeys.get(apiKey);
      if (!principal) throw invalidToken();
      return principal;
    }
    const header = req.get('authorization');
    if (!header?.startsWith('Bearer ')) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new ProblemError(401, 'unauthenticated', 'Authentication required', 'send a bearer token (Authorization: Bearer ...) or an X-API-Key');
    }
    return verifyToken(header.slice('Bearer '.length));
  };
}

export function authenticate(settings: AuthSettings): RequestHandler {
  const principalFor = createCredentialsCheck(settings);
  return async (req, res, next) => {
    res.locals.principal = await principalFor(req, res);
    next();
  };
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** Only these roles may pass; admin always may. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (principal.role !== 'admin' && !roles.includes(principal.role)) {
      throw new ProblemError(403, 'forbidden', 'Forbidden', `this action needs the role ${roles.join(' or ')}`);
    }
    next();
  };
}

/** `role:subject`, how actors are named in messages and audit rows. */
export function actorName(principal: Principal): string {
  return `${principal.role}:${principal.subject}`;
}
