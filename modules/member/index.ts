export * from './schemas';
export * from './rules';
export {
  createMemberService,
  MEMBER_EXISTS,
  type Member,
  type MemberService,
  type MemberServiceDeps,
  type OrderPointsChange,
  type PointsEntry,
  type RefundReversal,
  type TakeBackResult,
} from './service';
export type { Balances, EntryKind } from './ledger';
export { contactFieldsSchema, createMemberContacts, type ContactUpdate, type MemberContact, type MemberContacts } from './contacts';
