import { z } from 'zod';

/**
 * Business days and ISO weeks in the store's time zone (STORE_TIMEZONE). A day is 'YYYY-MM-DD' and
 * covers [local midnight, next local midnight); SQL turns it into instants with
 * `$day::date::timestamp AT TIME ZONE $zone`, so daylight-saving zones are right too.
 */
export const daySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a day as YYYY-MM-DD')
  .refine((text) => !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text), 'not a calendar day');

export const weekSchema = z
  .string()
  .regex(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, 'expected an ISO week as YYYY-Www, e.g. 2026-W49')
  .refine((text) => weekOfDay(weekStart(text)) === text, 'this year has no such week');

export const timeZoneSchema = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone (e.g. Asia/Shanghai)');

/** The business day an instant falls on in `timeZone`. */
export function dayOf(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

export function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** ISO week ('2026-W49') of a calendar day: the week of its Thursday. */
export function weekOfDay(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(date.getTime() + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(year, 0, 4));
  const firstMonday = firstThursday.getTime() - ((firstThursday.getUTCDay() + 6) % 7) * 86_400_000;
  const week = Math.floor((thursday.getTime() - firstMonday) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Monday of an ISO week, as a day. */
export function weekStart(week: string): string {
  const [year, number] = [Number(week.slice(0, 4)), Number(week.slice(6))];
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * 86_400_000 + (number - 1) * 7 * 86_400_000;
  return new Date(monday).toISOString().slice(0, 10);
}

/** SQL for the instant a day's parameter starts (`$n` day, `$m` zone): used by every roll-up. */
export const startOf = (day: string, zone: string) => `(${day}::date::timestamp AT TIME ZONE ${zone})`;
export const endOf = (day: string, zone: string) => `((${day}::date + 1)::timestamp AT TIME ZONE ${zone})`;

/** The instant a business day starts in `timeZone` (local midnight). */
export function startOfDay(day: string, timeZone: string): Date {
  const utcMidnight = new Date(`${day}T00:00:00Z`);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(utcMidnight)
      .map((part) => [part.type, part.value]),
  );
  const localAsUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return new Date(utcMidnight.getTime() - (localAsUtc - utcMidnight.getTime()));
}
