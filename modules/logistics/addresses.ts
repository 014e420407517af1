import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { withTransaction } from '../shared/db';
import { DomainError } from '../shared/errors';
import { isSafeText, UNSAFE_TEXT_MESSAGE } from '../shared/validation';
import { checkRegionCodes, loadRegions, type RegionFieldError } from './regions';

/**
 * Shipping addresses: members' saved ones (`/members/me/addresses`) and the one each order ships to.
 * An address is personal data: it is kept here (where it is needed to ship) and travels in workflow
 * payloads only, which the payload codec encrypts; never in search attributes, memo or logs.
 */

/** A mainland mobile (1[3-9] + 9 digits, optionally +86), or any other number in E.164. */
export const CN_MOBILE = /^(?:\+86)?1[3-9]\d{9}$/;
export const E164 = /^\+[1-9]\d{7,14}$/;
export function isValidMobile(mobile: string): boolean {
  if (mobile.startsWith('+86')) return CN_MOBILE.test(mobile);
  return CN_MOBILE.test(mobile) || E164.test(mobile);
}

const text = (max: number) => z.string().trim().min(1).max(max).refine(isSafeText, UNSAFE_TEXT_MESSAGE);
export const regionCodeSchema = z.string().regex(/^[1-9]\d{5}$/, 'must be a 6-digit GB/T 2260 code');

export const shippingAddressSchema = z
  .object({
    recipient: text(50),
    mobile: z.string().max(16).refine(isValidMobile, 'must be a Chinese mobile number (13812345678) or E.164 (+447911123456)'),
    provinceCode: regionCodeSchema,
    cityCode: regionCodeSchema,
    districtCode: regionCodeSchema,
    street: text(200),
    postcode: z.string().regex(/^\d{6}$/, 'must be 6 digits').optional(),
  })
  .strict();
export type ShippingAddress = z.infer<typeof shippingAddressSchema>;

export const savedAddressSchema = shippingAddressSchema.extend({ isDefault: z.boolean().optional() }).strict();
export type SavedAddressInput = z.infer<typeof savedAddressSchema>;

export interface SavedAddress extends ShippingAddress {
  addressId: string;
  isDefault: boolean;
}

/** The address's region codes are in the table and nest (province ⊃ city ⊃ district). */
export class InvalidRegionError extends DomainError {
  constructor(readonly fieldErrors: RegionFieldError[]) {
    super('INVALID_REGION', fieldErrors.map((error) => `${error.field}: ${error.message}`).join('; '), { fields: fieldErrors.map((error) => error.field) });
  }
}

interface AddressRow {
  address_id?: string;
  is_default?: boolean;
  recipient: string;
  mobile: string;
  province_code: string;
  city_code: string;
  district_code: string;
  street: string;
  postcode: string | null;
}

function toAddress(row: AddressRow): ShippingAddress {
  return {
    recipient: row.recipient,
    mobile: row.mobile,
    provinceCode: row.province_code,
    cityCode: row.city_code,
    districtCode: row.district_code,
    street: row.street,
    ...(row.postcode ? { postcode: row.postcode } : {}),
  };
}

/** The call that keeps an order's address (db/migrations/0920), its parameters numbered from `first`. */
export const SAVE_ORDER_ADDRESS_CALL = (first: number) =>
  `logistics.save_order_address(${Array.from({ length: 9 }, (_, index) => `$${first + index}`).join(', ')})`;

/** Its arguments, the address validated first (it is kept for the warehouse). */
export function saveOrderAddressArguments(input: { orderId: string; version: number; address: ShippingAddress }): unknown[] {
  return [input.orderId, input.version, ...values(shippingAddressSchema.parse(input.address))];
}

/**
 * For a reader of an order that also shows where it ships (GET /orders/{id}): the address as one
 * jsonb column of its own statement (`orderIdColumn` names the order's id there), one round trip.
 */
export const ORDER_ADDRESS_COLUMN = (orderIdColumn: string) =>
  `(SELECT to_jsonb(a) FROM (SELECT ${COLUMNS} FROM logistics.order_addresses WHERE order_id = ${orderIdColumn}) a) AS order_address`;

/** The column's value as the address (null: none kept). */
export function orderAddressOf(column: AddressRow | null): ShippingAddress | undefined {
  return column ? toAddress(column) : undefined;
}

/**
 * For a caller that reads a buyer's address with other modules' rows in one statement (placement):
 * the saved address `addressIdParam` of member `memberParam` (`null` for the address id: the member's
 * default candidates, at most two), as one jsonb array column; `addressFromCandidates` chooses.
 */
export const MEMBER_ADDRESS_CANDIDATES_JSON = (memberParam: string, addressIdParam: string) =>
  `(SELECT coalesce(jsonb_agg(to_jsonb(a)), '[]'::jsonb) FROM (SELECT address_id, is_default, ${COLUMNS} FROM logistics.member_addresses
     WHERE member_id = ${memberParam}::text AND (${addressIdParam}::text IS NULL OR address_id = ${addressIdParam}::text)
     ORDER BY is_default DESC, created_at LIMIT 2) a)`;

/**
 * The saved address asked for (`addressId`), or the member's default: the one marked default, or the
 * only one saved (two and none marked: no default). Undefined when there is none.
 */
export function addressFromCandidates(rows: readonly unknown[], addressId: string | undefined): SavedAddress | undefined {
  const [first, second] = rows as AddressRow[];
  if (addressId !== undefined) return first && first.address_id === addressId ? toSaved(first) : undefined;
  return first && (first.is_default || !second) ? toSaved(first) : undefined;
}

const toSaved = (row: AddressRow): SavedAddress => ({ addressId: row.address_id!, isDefault: row.is_default === true, ...toAddress(row) });
const COLUMNS = 'recipient, mobile, province_code, city_code, district_code, street, postcode';
const values = (a: ShippingAddress) => [a.recipient, a.mobile, a.provinceCode, a.cityCode, a.districtCode, a.street, a.postcode ?? null];
export const MAX_SAVED_ADDRESSES = 20;

export function createAddressService({ pool }: { pool: Pool }) {
  /** Shape (zod) then regions (the table); throws ZodError or InvalidRegionError. */
  async function validate(input: unknown): Promise<ShippingAddress> {
    const address = shippingAddressSchema.parse(input);
    const errors = checkRegionCodes(await loadRegions(pool), address);
    if (errors.length > 0) throw new InvalidRegionError(errors);
    return address;
  }

  return {
    validate,

    async list(memberId: string): Promise<SavedAddress[]> {
      const found = await pool.query<AddressRow>(
        `SELECT address_id, is_default, ${COLUMNS} FROM logistics.member_addresses WHERE member_id = $1 ORDER BY created_at, address_id`,
        [memberId],
      );
      return found.rows.map(toSaved);
    },

    /** The member's default address (or their only one). */
    async defaultFor(memberId: string): Promise<SavedAddress | undefined> {
      const found = await pool.query<AddressRow>(
        `SELECT address_id, is_default, ${COLUMNS} FROM logistics.member_addresses WHERE member_id = $1 ORDER BY is_default DESC, created_at LIMIT 2`,
        [memberId],
      );
      return addressFromCandidates(found.rows, undefined);
    },

    /** Saves a new address (the first one is the default); the member's addresses are locked meanwhile. */
    async create(memberId: string, input: unknown): Promise<SavedAddress> {
      const { isDefault, ...rest } = savedAddressSchema.parse(input);
      const address = await validate(rest);
      const addressId = `adr_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
      return withTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`addresses:${memberId}`]);
        const count = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM logistics.member_addresses WHERE member_id = $1', [memberId])).rows[0].n);
        if (count >= MAX_SAVED_ADDRESSES) throw new DomainError('TOO_MANY_ADDRESSES', `at most ${MAX_SAVED_ADDRESSES} saved addresses`);
        const makeDefault = isDefault === true || count === 0;
        if (makeDefault) await client.query('UPDATE logistics.member_addresses SET is_default = false WHERE member_id = $1 AND is_default', [memberId]);
        const saved = await client.query<AddressRow>(
          `INSERT INTO logistics.member_addresses (address_id, member_id, is_default, ${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           RETURNING address_id, is_default, ${COLUMNS}`,
          [addressId, memberId, makeDefault, ...values(address)],
        );
        return toSaved(saved.rows[0]);
      });
    },

    /** Replaces a saved address; undefined when the member has no such address. */
    async update(memberId: string, addressId: string, input: unknown): Promise<SavedAddress | undefined> {
      const { isDefault, ...rest } = savedAddressSchema.parse(input);
      const address = await validate(rest);
      return withTransaction(pool, async (client) => {
        if (isDefault) await client.query('UPDATE logistics.member_addresses SET is_default = false WHERE member_id = $1 AND is_default AND address_id <> $2', [memberId, addressId]);
        const saved = await client.query<AddressRow>(
          `UPDATE logistics.member_addresses SET recipient = $3, mobile = $4, province_code = $5, city_code = $6, district_code = $7, street = $8,
             postcode = $9, is_default = is_default OR $10, updated_at = now()
           WHERE member_id = $1 AND address_id = $2 RETURNING address_id, is_default, ${COLUMNS}`,
          [memberId, addressId, ...values(address), isDefault === true],
        );
        return saved.rows[0] ? toSaved(saved.rows[0]) : undefined;
      });
    },

    async remove(memberId: string, addressId: string): Promise<boolean> {
      const removed = await pool.query('DELETE FROM logistics.member_addresses WHERE member_id = $1 AND address_id = $2', [memberId, addressId]);
      return (removed.rowCount ?? 0) > 0;
    },

    /** The order's address at `version` (placement is 1, each accepted change +1); an older version never replaces a newer. */
    async saveOrderAddress(input: { orderId: string; version: number; address: ShippingAddress }): Promise<void> {
      await pool.query(`SELECT ${SAVE_ORDER_ADDRESS_CALL(1)}`, saveOrderAddressArguments(input));
    },

    async orderAddress(orderId: string): Promise<ShippingAddress | undefined> {
      const found = await pool.query<AddressRow>(`SELECT ${COLUMNS} FROM logistics.order_addresses WHERE order_id = $1`, [orderId]);
      return found.rows[0] ? toAddress(found.rows[0]) : undefined;
    },
  };
}

export type AddressService = ReturnType<typeof createAddressService>;
