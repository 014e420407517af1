import type { Pool } from 'pg';

/**
 * The GB/T 2260 administrative divisions the shop ships to (`logistics.regions`, seeded by migration
 * 0500). The table changes only with a migration, so each process reads it once.
 */
export interface Region {
  code: string;
  name: string;
  level: 1 | 2 | 3;
  parentCode: string | null;
}

export interface RegionCodes {
  provinceCode: string;
  cityCode: string;
  districtCode: string;
}

export interface RegionFieldError {
  field: keyof RegionCodes;
  message: string;
}

export type RegionTable = ReadonlyMap<string, Region>;

const tables = new WeakMap<Pool, Promise<RegionTable>>();

export function loadRegions(pool: Pool): Promise<RegionTable> {
  let table = tables.get(pool);
  if (!table) {
    table = pool
      .query<{ code: string; name: string; level: number; parent_code: string | null }>('SELECT code, name, level, parent_code FROM logistics.regions')
      .then((found) => new Map(found.rows.map((row) => [row.code, { code: row.code, name: row.name, level: row.level as Region['level'], parentCode: row.parent_code }])));
    table.catch(() => tables.delete(pool)); // a failed read is tried again next time
    tables.set(pool, table);
  }
  return table;
}

/** Province, city and district exist, are of their level and nest; one error per wrong field. */
export function checkRegionCodes(table: RegionTable, codes: RegionCodes): RegionFieldError[] {
  const errors: RegionFieldError[] = [];
  const expect = (field: keyof RegionCodes, level: Region['level'], parent?: string) => {
    const region = table.get(codes[field]);
    if (!region || region.level !== level) {
      errors.push({ field, message: `unknown ${field.replace('Code', '')} code ${codes[field]} (GB/T 2260)` });
      return false;
    }
    if (parent !== undefined && region.parentCode !== parent) {
      errors.push({ field, message: `${codes[field]} is not in ${parent}` });
      return false;
    }
    return true;
  };
  if (expect('provinceCode', 1) && expect('cityCode', 2, codes.provinceCode)) expect('districtCode', 3, codes.cityCode);
  return errors;
}

/** The codes from the most specific to the province: what freight rules are looked up by. */
export function regionPath(codes: RegionCodes): string[] {
  return [codes.districtCode, codes.cityCode, codes.provinceCode];
}
