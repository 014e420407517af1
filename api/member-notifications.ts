import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { createAuditService } from '../modules/audit';
import { contactFieldsSchema, createMemberContacts, type MemberContact } from '../modules/member';
import { createNotificationPreferences, preferencesUpdateSchema } from '../modules/notifications';
import { DomainError } from '../modules/shared/errors';
import { principalOf, requireRole } from './auth';
import { requestIdOf } from './audit';
import { problemResponse, registry } from './openapi';
import { notFound } from './problem';

/**
 * The buyer's own notification settings: how to reach them (mobile, WeChat openid, email) and what
 * not to send (per channel, per event type). Buyer-scoped: the member is the token's subject, never
 * a path or body field. Every change is audited (audit.events) with before and after; contact
 * details appear there masked.
 */
// .describe(), not .openapi(): these schemas come from modules that may load before api/openapi.ts extends zod (a worker-side import of modules/notifications first).
const ContactUpdate = registry.register('MemberContactUpdate', contactFieldsSchema.describe('Fields to set; null clears one, absent keeps it'));
const PreferencesUpdate = registry.register(
  'NotificationPreferencesUpdate',
  preferencesUpdateSchema.describe('Switches to change: a channel as a whole, or one event type on a channel (false = opted out)'),
);
const Preferences = registry.register('NotificationPreferences', z.object({}).passthrough().openapi({ description: '{ channels: {sms, wechat, email}, events: {<type>: {sms, wechat, email}} }' }));
const Contact = registry.register('MemberContact', z.object({ mobile: z.string().nullable(), email: z.string().nullable(), wechatOpenId: z.string().nullable() }));
const security: Record<string, string[]>[] = [{ bearerAuth: [] }];
const buyerOnly = { 401: problemResponse('No or bad credentials'), 403: problemResponse('Not a buyer'), 404: problemResponse('The caller is no member') };
for (const [path, schema, body, what] of [
  ['/members/me/notification-preferences', Preferences, PreferencesUpdate, 'notification preferences'],
  ['/members/me/contact', Contact, ContactUpdate, 'contact details (for notifications)'],
] as const) {
  registry.registerPath({ method: 'get', path, summary: `The buyer's ${what}`, security, responses: { 200: { description: what, content: { 'application/json': { schema } } }, ...buyerOnly } });
  registry.registerPath({
    method: 'put',
    path,
    summary: `Change the buyer's ${what} (audited)`,
    security,
    request: { body: { content: { 'application/json': { schema: body } } } },
    responses: { 200: { description: `the ${what} after the change`, content: { 'application/json': { schema } } }, 400: problemResponse('Invalid body'), ...buyerOnly },
  });
}

export function memberNotificationsRouter(deps: { pool: Pool }): Router {
  const router = Router();
  const contacts = createMemberContacts(deps);
  const preferences = createNotificationPreferences(deps);
  const audit = createAuditService(deps);
  const buyer = requireRole('customer');

  /** The caller's member record must exist before anything is read or written. */
  async function memberOf(res: Response): Promise<MemberContact> {
    const memberId = principalOf(res).subject;
    try {
      return await contacts.getContact(memberId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'MEMBER_NOT_FOUND') throw notFound(`member ${memberId}`);
      throw error;
    }
  }

  const record = (req: Request, res: Response, action: string, before: Record<string, unknown>, after: Record<string, unknown>) => {
    const principal = principalOf(res);
    return audit.record({ actor: principal.subject, actorRole: principal.role, action, targetType: 'member', targetId: principal.subject, before, after, requestId: requestIdOf(req, res) });
  };

  router.get('/members/me/notification-preferences', buyer, async (_req, res) => {
    const member = await memberOf(res);
    res.json(await preferences.get(member.memberId));
  });

  router.put('/members/me/notification-preferences', buyer, async (req, res) => {
    const update = preferencesUpdateSchema.parse(req.body);
    const member = await memberOf(res);
    const { before, after } = await preferences.update(member.memberId, update);
    await record(req, res, 'member.notification-preferences.update', { ...before }, { ...after });
    res.json(after);
  });

  router.get('/members/me/contact', buyer, async (_req, res) => {
    const { memberId: _id, ...contact } = await memberOf(res);
    res.json(contact);
  });

  router.put('/members/me/contact', buyer, async (req, res) => {
    const update = contactFieldsSchema.parse(req.body);
    const member = await memberOf(res);
    const { before, after } = await contacts.updateContact(member.memberId, update);
    await record(req, res, 'member.contact.update', masked(before), masked(after));
    const { memberId: _id, ...contact } = after;
    res.json(contact);
  });

  return router;
}

/** What the audit trail keeps of contact details: enough to see what changed, not the data itself. */
function masked(contact: MemberContact): Record<string, string | null> {
  const keep = (value: string | null, head: number, tail: number) =>
    value === null ? null : value.length <= head + tail ? '*'.repeat(value.length) : `${value.slice(0, head)}${'*'.repeat(value.length - head - tail)}${tail ? value.slice(-tail) : ''}`;
  return {
    mobile: keep(contact.mobile, 3, 4),
    email: contact.email === null ? null : `${keep(contact.email.split('@')[0], 1, 0)}@${contact.email.split('@').slice(1).join('@')}`,
    wechatOpenId: keep(contact.wechatOpenId, 0, 4),
  };
}
