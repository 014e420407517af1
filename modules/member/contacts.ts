import type { Pool } from 'pg';
import { z } from 'zod';
import { withTransaction } from '../shared/db';
import { DomainError } from '../shared/errors';
import { memberIdSchema } from './schemas';

/**
 * How a buyer can be reached (member.contacts): personal data, read only by the member and
 * notification modules. Each field is optional; `null` in an update clears it, absent keeps it.
 */
export const contactFieldsSchema = z
  .object({
    /** A mainland China mobile number, 11 digits (SMS). */
    mobile: z.string().regex(/^1[3-9]\d{9}$/, 'expected an 11-digit mainland mobile number such as 13800138000').nullable(),
    email: z.email().max(254).nullable(),
    /** The buyer's openid for the store's WeChat official account or mini program (subscription messages). */
    wechatOpenId: z.string().regex(/^[A-Za-z0-9_-]{6,64}$/, 'expected a WeChat openid').nullable(),
  })
  .partial()
  .strict();
export type ContactUpdate = z.input<typeof contactFieldsSchema>;

export interface MemberContact {
  memberId: string;
  mobile: string | null;
  email: string | null;
  wechatOpenId: string | null;
}

export function createMemberContacts({ pool }: { pool: Pool }) {
  async function readContact(db: Pick<Pool, 'query'>, memberId: string, lock = false): Promise<MemberContact> {
    const id = memberIdSchema.parse(memberId);
    const found = await db.query(
      `SELECT m.id, c.mobile, c.email, c.wechat_openid FROM member.members m LEFT JOIN member.contacts c ON c.member_id = m.id
        WHERE m.id = $1 ${lock ? 'FOR UPDATE OF m' : ''}`,
      [id],
    );
    if (found.rowCount === 0) throw new DomainError('MEMBER_NOT_FOUND', `member ${id} does not exist`, { memberId: id });
    const row = found.rows[0];
    return { memberId: id, mobile: row.mobile ?? null, email: row.email ?? null, wechatOpenId: row.wechat_openid ?? null };
  }

  return {
    getContact: (memberId: string) => readContact(pool, memberId),

    /** Sets the given fields (null clears one); returns the contact before and after, for the audit row. */
    async updateContact(memberId: string, update: ContactUpdate): Promise<{ before: MemberContact; after: MemberContact }> {
      const fields = contactFieldsSchema.parse(update);
      // The member row is locked: two updates at once each keep the other's fields.
      return withTransaction(pool, async (client) => {
        const before = await readContact(client, memberId, true);
        const after = { ...before, ...fields };
        await client.query(
          `INSERT INTO member.contacts (member_id, mobile, email, wechat_openid, updated_at) VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (member_id) DO UPDATE SET mobile = $2, email = $3, wechat_openid = $4, updated_at = now()`,
          [before.memberId, after.mobile, after.email, after.wechatOpenId],
        );
        return { before, after };
      });
    },
  };
}

export type MemberContacts = ReturnType<typeof createMemberContacts>;
