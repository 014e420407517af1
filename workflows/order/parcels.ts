import { allocateProRata } from '../../modules/shared/money';
import type { OrderLineView } from './definitions';
import type { CarrierEvent, CarrierEventCode, OpenedParcel, ParcelStatus, ParcelView } from './parcel-definitions';

/**
 * The parcel state machine and the parcel arithmetic (pure: unit-tested in test/workflows/parcels.test.ts).
 *
 *   PENDING ─ship→ SHIPPED → IN_TRANSIT → OUT_FOR_DELIVERY → DELIVERED
 *      │             └──────────┴──────────────┴─→ EXCEPTION ─→ (back on the way, or DELIVERED / RETURNED)
 *      └─shipment failure→ FAILED                 any on-the-way state → RETURNED (to the sender)
 *
 * A carrier event never moves a parcel backwards: one the machine does not allow from the current
 * state (in transit after delivered), or one older than the last event that moved the parcel, is
 * recorded in the parcel's tracking history only.
 */
const transitions: Record<ParcelStatus, readonly ParcelStatus[]> = {
  PENDING: ['SHIPPED', 'FAILED'],
  SHIPPED: ['IN_TRANSIT', 'OUT_FOR_DELIVERY', 'EXCEPTION', 'DELIVERED', 'RETURNED'],
  IN_TRANSIT: ['OUT_FOR_DELIVERY', 'EXCEPTION', 'DELIVERED', 'RETURNED'],
  OUT_FOR_DELIVERY: ['EXCEPTION', 'DELIVERED', 'RETURNED'],
  EXCEPTION: ['IN_TRANSIT', 'OUT_FOR_DELIVERY', 'DELIVERED', 'RETURNED'],
  DELIVERED: [],
  RETURNED: [],
  FAILED: [],
};

export const parcelStatuses = Object.keys(transitions) as ParcelStatus[];

const statusOfEvent: Record<CarrierEventCode, ParcelStatus> = {
  PICKED_UP: 'SHIPPED',
  IN_TRANSIT: 'IN_TRANSIT',
  OUT_FOR_DELIVERY: 'OUT_FOR_DELIVERY',
  DELIVERED: 'DELIVERED',
  EXCEPTION: 'EXCEPTION',
  RETURNED_TO_SENDER: 'RETURNED',
};

export function canMoveParcel(from: ParcelStatus, to: ParcelStatus): boolean {
  return transitions[from].includes(to);
}

/** A move outside the table is a bug in the workflow code (the run's task fails and waits for a fix). */
export function moveParcel(parcel: ParcelView, to: ParcelStatus): void {
  if (!canMoveParcel(parcel.status, to)) throw new Error(`parcel ${parcel.parcelId} cannot move from ${parcel.status} to ${to}`);
  parcel.status = to;
}

/** On its way (shipped, not yet delivered, returned or failed): the carrier or the buyer may still deliver it. */
export function isOnTheWay(status: ParcelStatus): boolean {
  return status === 'SHIPPED' || status === 'IN_TRANSIT' || status === 'OUT_FOR_DELIVERY' || status === 'EXCEPTION';
}

export function isFinal(status: ParcelStatus): boolean {
  return transitions[status].length === 0;
}

/** Where a carrier event takes the parcel, or undefined when it is recorded in the history only. */
export function carrierEventTarget(parcel: ParcelView, event: Pick<CarrierEvent, 'code' | 'occurredAt'>): ParcelStatus | undefined {
  const to = statusOfEvent[event.code];
  if (to === parcel.status || !canMoveParcel(parcel.status, to)) return undefined;
  if (parcel.lastMovedAt && Date.parse(event.occurredAt) < Date.parse(parcel.lastMovedAt)) return undefined;
  return to;
}

// --- the order's parcels as a whole --------------------------------------------------------------

/** Every parcel left its warehouse or failed there: nothing is waiting for a warehouse any more. */
export function allReported(parcels: readonly ParcelView[]): boolean {
  return parcels.every((parcel) => parcel.status !== 'PENDING');
}

export function anyShipped(parcels: readonly ParcelView[]): boolean {
  return parcels.some((parcel) => parcel.status !== 'PENDING' && parcel.status !== 'FAILED');
}

/** Nothing left on its way or in a warehouse: the order is delivered (failed and returned parcels do not hold it up). */
export function allArrived(parcels: readonly ParcelView[]): boolean {
  return allReported(parcels) && parcels.every((parcel) => !isOnTheWay(parcel.status));
}

/** Every parcel failed: nothing remains of the order to ship. */
export function nothingRemains(parcels: readonly ParcelView[]): boolean {
  return parcels.every((parcel) => parcel.status === 'FAILED');
}

export function lastShippedAt(parcels: readonly ParcelView[]): string | undefined {
  return parcels.map((parcel) => parcel.shippedAt).filter((at): at is string => at !== undefined).sort().at(-1);
}

// --- money ----------------------------------------------------------------------------------------

/**
 * The freight of the order split over its parcels: proportional to each parcel's payable, rounded
 * down to the fen, the remainder to the last parcel (so the shares add up to the freight exactly).
 * Parcels that pay nothing at all (fully discounted) leave the whole freight to the last parcel.
 */
export function freightShares(freightFen: number, payables: readonly number[]): number[] {
  if (payables.length === 0) return [];
  const total = payables.reduce((sum, fen) => sum + fen, 0);
  const shares = payables.map((fen) => (total === 0 ? 0 : Math.floor((freightFen * fen) / total)));
  shares[shares.length - 1] = freightFen - shares.slice(0, -1).reduce((sum, fen) => sum + fen, 0);
  return shares;
}

/**
 * Parcels priced: a line's payable is split over its units (to the fen, as refunds split it) and
 * each parcel takes the next units of the line in parcel order; the freight follows freightShares.
 */
export function priceParcels(opened: readonly OpenedParcel[], lines: readonly OrderLineView[], freightFen: number): ParcelView[] {
  const nextUnit = new Map<string, number>();
  const perUnit = new Map(lines.map((line) => [line.lineId, allocateProRata(line.payableFen, new Array<number>(line.quantity).fill(1))]));
  const parcels: ParcelView[] = [...opened]
    .sort((a, b) => a.seq - b.seq)
    .map((parcel) => {
      const items = parcel.items.map((item) => {
        const from = nextUnit.get(item.lineId) ?? 0;
        nextUnit.set(item.lineId, from + item.quantity);
        const payableFen = (perUnit.get(item.lineId) ?? []).slice(from, from + item.quantity).reduce((sum, fen) => sum + fen, 0);
        return { ...item, payableFen };
      });
      const payableFen = items.reduce((sum, item) => sum + item.payableFen, 0);
      return { parcelId: parcel.parcelId, seq: parcel.seq, warehouseId: parcel.warehouseId, status: 'PENDING', items, payableFen, freightFen: 0, tracking: [] };
    });
  const shares = freightShares(freightFen, parcels.map((parcel) => parcel.payableFen));
  parcels.forEach((parcel, index) => (parcel.freightFen = shares[index]));
  return parcels;
}
