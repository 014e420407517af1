import type { Fen } from '../shared/money';

/** Chinese providers write amounts as yuan strings with at most two decimals ("12.30"); we hold integer fen. */
export function fenToYuan(fen: Fen): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new Error(`not a fen amount: ${fen}`);
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/** The exact fen of a yuan string, or undefined when it is not one ("1.234", "", "abc"). No floats. */
export function yuanToFen(yuan: string | undefined): Fen | undefined {
  const match = /^(-?)(\d{1,13})(?:\.(\d{1,2}))?$/.exec((yuan ?? '').trim());
  if (!match) return undefined;
  const fen = Number(match[2]) * 100 + Number((match[3] ?? '').padEnd(2, '0'));
  return match[1] ? -fen : fen;
}

/** Chinese providers' bills and notifications use Beijing time (UTC+8, no daylight saving). */
export const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** "2026-12-01 10:00:00" in Beijing time → ISO UTC. */
export function fromBeijingTime(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(text.trim());
  if (!match) throw new Error(`unreadable bill time "${text}"`);
  return new Date(Date.parse(`${match[1]}T${match[2]}Z`) - BEIJING_OFFSET_MS).toISOString();
}

/** ISO UTC → "2026-12-01 10:00:00" in Beijing time (Alipay's notation). */
export function toBeijingTime(date: Date): string {
  return new Date(date.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}
