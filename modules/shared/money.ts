/**
 * Money is integer fen (1 yuan = 100 fen). These helpers never produce fractions of a fen and are
 * deterministic, so a price breakdown computed twice is identical.
 */
export type Fen = number;

export function assertFen(value: number, what = 'amount'): Fen {
  if (!Number.isSafeInteger(value)) throw new Error(`${what} must be an integer number of fen, got ${value}`);
  return value;
}

/**
 * Splits `total` across `weights` pro rata with the largest-remainder method: the parts are integers,
 * add up to exactly `total`, and ties go to the earlier index. Zero total weight splits nothing.
 */
export function allocateProRata(total: Fen, weights: readonly number[]): Fen[] {
  assertFen(total, 'total');
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  if (weights.length === 0) return [];
  if (weightSum === 0) {
    if (total !== 0) throw new Error('cannot allocate a non-zero amount over zero weights');
    return weights.map(() => 0);
  }
  const sign = total < 0 ? -1 : 1;
  const absolute = Math.abs(total);
  // BigInt keeps exact products for large totals and weights.
  const exact = weights.map((weight) => (BigInt(absolute) * BigInt(weight)));
  const floors = exact.map((product) => product / BigInt(weightSum));
  const remainders = exact.map((product, index) => ({ index, remainder: product % BigInt(weightSum) }));
  let leftover = absolute - floors.reduce((sum, part) => sum + Number(part), 0);
  remainders.sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  const parts = floors.map(Number);
  for (const { index } of remainders) {
    if (leftover === 0) break;
    parts[index] += 1;
    leftover -= 1;
  }
  return parts.map((part) => part * sign);
}

/** Formats fen for people: 12345 → "123.45". */
export function formatYuan(fen: Fen): string {
  const sign = fen < 0 ? '-' : '';
  const absolute = Math.abs(fen);
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}
