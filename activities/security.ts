import { ApplicationFailure } from '@temporalio/common';
import { createTokenVerifier, InvalidTokenError, type AuthSettings, type Role } from '../infra/tokens';

export interface VerifyActorTokenInput {
  /** The staff JWT the ops signal or update carried (`actorToken`). */
  token?: string;
  /** Roles allowed to send the message (default support and admin). */
  roles?: Role[];
}

export interface VerifiedActor {
  /** `role:subject`, as the audit tables name actors. */
  actor: string;
  role: Role;
  subject: string;
}

/**
 * Verifies the actor of a message sent to a workflow from outside the API (the Temporal UI or CLI):
 * the message carries the sender's staff JWT, and only what the token proves is recorded, never a
 * name the sender typed. A missing, forged or expired token, or a role that may not send the message,
 * is a non-retryable INVALID_ACTOR failure: the workflow refuses the message and notes it.
 */
export function createSecurityActivities({ auth }: { auth: AuthSettings }) {
  const verify = createTokenVerifier(auth);
  return {
    async verifyActorToken({ token, roles = ['support', 'admin'] }: VerifyActorTokenInput): Promise<VerifiedActor> {
      const refuse = (why: string) => ApplicationFailure.create({ message: `actor refused: ${why}`, type: 'INVALID_ACTOR', nonRetryable: true });
      if (!token) throw refuse('the message carries no actor token');
      let principal;
      try {
        principal = await verify(token);
      } catch (error) {
        if (error instanceof InvalidTokenError) throw refuse('invalid token');
        throw error;
      }
      if (!roles.includes(principal.role)) throw refuse(`role ${principal.role} may not send this message`);
      return { actor: `${principal.role}:${principal.subject}`, role: principal.role, subject: principal.subject };
    },
  };
}
