import { assertFen, type Fen } from '../shared/money';

/** Integer fen as the buyer reads it: 128000 → "¥1,280.00". Integer arithmetic only, no floats. */
export function formatFen(fen: Fen): string {
  assertFen(fen);
  const sign = fen < 0 ? '-' : '';
  const absolute = Math.abs(fen);
  const yuan = String(Math.floor(absolute / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}¥${yuan}.${String(absolute % 100).padStart(2, '0')}`;
}

/** An instant in the store's time zone, as Chinese texts write it: "2026年12月3日 20:00". */
export function formatInstant(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`not an instant: ${iso}`);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}年${Number(parts.month)}月${Number(parts.day)}日 ${parts.hour}:${parts.minute}`;
}

/** WeChat's `thing` fields hold at most 20 characters, SMS variables are limited too: cut, never fail. */
export function clip(text: string, max: number): string {
  const characters = Array.from(text);
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`;
}
