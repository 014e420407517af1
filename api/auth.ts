import type { NextFunction, Request, RequestHandler, Response } from 'express';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ProblemError } from './problem';

/**
 * Who is calling. Customers carry a bearer token (HS256 JWT: `sub` = member id, `role`); machines and
 * back-office people may use a static API key (`X-API-Key`). A customer only ever sees their own orders.
 */
// merchant: the shop's people (reports, back office); finance: the money reports (trial balance).
export const ROLES = ['customer', 'warehouse', 'support', 'admin', 'merchant', 'finance'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  subject: string;
  role: Role;
}

export interface AuthSettings {
  jwtSecret: string;
  /** API key → principal */
  apiKeys: Map<string, Principal>;
}

/** Parses `key=role:subject,key=role:subject` (API_KEYS). */
export function parseApiKeys(text: string | undefined): Map<string, Principal> {
  const keys = new Map<string, Principal>();
  for (const entry of (text ?? '').split(',').filter(Boolean)) {
    const [key, rest] = entry.split('=');
    const [role, subject] = rest.split(':');
    keys.set(key, { role: role as Role, subject });
  }
  return keys;
}

const claimsSchema = z.object({ sub: z.string().min(1), role: z.enum(ROLES) });

export function issueToken(secret: string, principal: Principal, expiresIn: jwt.SignOptions['expiresIn'] = '12h'): string {
  return jwt.sign({ role: principal.role }, secret, { subject: principal.subject, algorithm: 'HS256', expiresIn });
}

const unauthenticated = (detail: string) =>
  new ProblemError(401, 'unauthenticated', 'Authentication required', detail);

export function authenticate(settings: AuthSettings): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const apiKey = req.get('x-api-key');
    if (apiKey) {
      const principal = settings.apiKeys.get(apiKey);
      if (!principal) throw unauthenticated('unknown API key');
      res.locals.principal = principal;
      return next();
    }
    const header = req.get('authorization');
    if (!header?.startsWith('Bearer ')) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw unauthenticated('send a bearer token (Authorization: Bearer ...) or an X-API-Key');
    }
    let claims: unknown;
    try {
      claims = jwt.verify(header.slice('Bearer '.length), settings.jwtSecret, { algorithms: ['HS256'] });
    } catch (error) {
      throw unauthenticated(`invalid token: ${(error as Error).message}`);
    }
    const parsed = claimsSchema.safeParse(claims);
    if (!parsed.success) throw unauthenticated('the token has no valid sub and role');
    res.locals.principal = { subject: parsed.data.sub, role: parsed.data.role } satisfies Principal;
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
