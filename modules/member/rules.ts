import type { Fen } from '../shared/money';

/** Member tiers by cumulative completed spend, highest first (configuration; fen). */
export const TIER_THRESHOLDS = [
  { tier: 'PLATINUM', minSpendFen: 2_000_000 },
  { tier: 'GOLD', minSpendFen: 500_000 },
  { tier: 'SILVER', minSpendFen: 100_000 },
  { tier: 'BRONZE', minSpendFen: 0 },
] as const;

export type Tier = (typeof TIER_THRESHOLDS)[number]['tier'];

export function tierForSpend(completedSpendFen: Fen): Tier {
  const reached = TIER_THRESHOLDS.find((threshold) => completedSpendFen >= threshold.minSpendFen);
  return reached?.tier ?? 'BRONZE';
}

/** Default earning rate: points per whole yuan paid. */
export const DEFAULT_POINTS_PER_YUAN = 1;

/** Points earned (or taken back) for an amount: whole yuan only, so 99 fen earn nothing. */
export function pointsForFen(amountFen: Fen, pointsPerYuan = DEFAULT_POINTS_PER_YUAN): number {
  return Math.floor(amountFen / 100) * pointsPerYuan;
}

/** Redemption: 100 points = 1 yuan, so one point is worth exactly one fen. */
export const FEN_PER_POINT = 1;
/** Points may pay at most this share of an order (percent). */
export const MAX_REDEEMABLE_PERCENT = 50;

/** The most points an order of `orderPayableFen` may redeem, given what the member has available. */
export function maxRedeemablePoints(orderPayableFen: Fen, availablePoints: number): number {
  if (orderPayableFen <= 0 || availablePoints <= 0) return 0;
  const byShare = Math.floor((orderPayableFen * MAX_REDEEMABLE_PERCENT) / 100 / FEN_PER_POINT);
  return Math.min(byShare, Math.floor(availablePoints));
}
