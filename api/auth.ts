import type { Request, RequestHandler, Response } from 'express';
import { createTokenVerifier, InvalidTokenError, type AuthSettings, type Principal, type Role } from '../infra/tokens';
import { ProblemError } from './problem';

export {
  ALL_WAREHOUSES,
  DEFAULT_AUDIENCE,
  DEFAULT_ISSUER,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  issueToken,
  parseApiKeys,
  ROLES,
  type AuthSettings,
  type Principal,
  type Role,
} from '../infra/tokens';

/**
 * Who is calling: a bearer token (infra/tokens.ts) or a static API key (`X-API-Key`) of a machine.
 * Any bad credential is 401 "invalid token", nothing more.
 */
const invalidToken = () => new ProblemError(401, 'unauthenticated', 'Authentication required', 'invalid token');

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
    try {
      return await verifyToken(header.slice('Bearer '.length));
    } catch (error) {
      if (error instanceof InvalidTokenError) throw invalidToken();
      throw error;
    }
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
