import type { Fen } from '../../shared/money';

/** Alipay writes amounts as yuan strings with at most two decimals ("12.30"); we hold integer fen. */
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
