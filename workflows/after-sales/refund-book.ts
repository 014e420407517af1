import { allocateProRata } from '../../modules/shared/money';
import type { OrderLineView } from '../order/definitions';
import { refuse } from '../shared/refusals';
import type { HeldStockRelease, RefundLine, RefundLineRequest, RefundPlan } from './definitions';

/**
 * The order's book of refunds (pure data and functions, no Temporal calls): per line what is refunded
 * and what open requests reserve, and what of the order's points and coupon went back already. Every
 * path that gives money back (a refund request, a cancel's compensation) reads and writes it, so an
 * undo is computed from what is left, never from a figure frozen when the step ran.
 */
export interface LineBook {
  lineId: string;
  refundedQuantity: number;
  reservedQuantity: number;
  reservedFen: number;
  committedFen: number;
}

export interface RefundBook {
  lines: LineBook[];
  /** Approved by refund requests (planned; paid or being paid by their workflows). */
  committedFen: number;
  /** Given back by the order's own compensation (cancel after payment). */
  compensatedFen: number;
  usedPointsReturned: number;
  couponReturned: boolean;
  /** Units refunded before shipment: shipped with the reservation, restocked right after. */
  restockAfterShipment: { skuId: string; quantity: number }[];
  /** Freight reserved by an open request / given back by refunds (README: freight goes back with a full refund before shipment). */
  freightReservedFen?: number;
  freightRefundedFen?: number;
}

export function newRefundBook(): RefundBook {
  return { lines: [], committedFen: 0, compensatedFen: 0, usedPointsReturned: 0, couponReturned: false, restockAfterShipment: [], freightReservedFen: 0, freightRefundedFen: 0 };
}

export function lineBook(book: RefundBook, lineId: string): LineBook {
  let line = book.lines.find((candidate) => candidate.lineId === lineId);
  if (!line) {
    line = { lineId, refundedQuantity: 0, reservedQuantity: 0, reservedFen: 0, committedFen: 0 };
    book.lines.push(line);
  }
  return line;
}

function peek(book: RefundBook, lineId: string): LineBook {
  return book.lines.find((candidate) => candidate.lineId === lineId) ?? { lineId, refundedQuantity: 0, reservedQuantity: 0, reservedFen: 0, committedFen: 0 };
}

export function reservedFen(book: RefundBook): number {
  return book.lines.reduce((sum, line) => sum + line.reservedFen, 0);
}

/** Money of the order still to give back (paid − approved refunds − what compensation returned). */
export function unrefundedFen(book: RefundBook, paidFen: number): number {
  return Math.max(0, paidFen - book.committedFen - book.compensatedFen);
}

export function everyUnitRefunded(book: RefundBook, lines: readonly OrderLineView[]): boolean {
  return lines.length > 0 && lines.every((line) => peek(book, line.lineId).refundedQuantity >= line.quantity);
}

export interface PricingTerms {
  lines: readonly OrderLineView[];
  paidFen: number;
  /** What refunds of a line may give back (a presale before its final payment: the deposit). */
  refundableFenOf(line: OrderLineView): number;
  /** False: only every unit left at once (a flash sale before shipment, a presale's deposit), with the reason. */
  partialAllowed: boolean;
  partialRefusal?: string;
  /** The freight a request for every unit left gives back (the order's freight before shipment, else 0). */
  freightFen?: number;
}

/**
 * Prices a request's lines against what is left: throws a typed refusal (422) when a line is unknown,
 * named twice, or asks for more than is left, or the total exceeds what is left on the order. Read only.
 */
export function priceRequest(book: RefundBook, terms: PricingTerms, wanted: readonly RefundLineRequest[]): RefundLine[] {
  if (!Array.isArray(wanted) || wanted.length === 0) refuse('INVALID_REFUND_REQUEST', 'name at least one line');
  const priced: RefundLine[] = [];
  for (const request of wanted) {
    const line = terms.lines.find((candidate) => (request.lineId ? candidate.lineId === request.lineId : candidate.skuId === request.skuId));
    if (!line) refuse('UNKNOWN_ORDER_LINE', `the order has no line ${request.lineId ?? request.skuId}`);
    if (priced.some((other) => other.lineId === line.lineId)) refuse('INVALID_REFUND_REQUEST', `line ${line.lineId} is named twice`);
    if (!Number.isSafeInteger(request.quantity) || request.quantity < 1) refuse('INVALID_REFUND_REQUEST', 'quantities are whole numbers from 1');
    const held = peek(book, line.lineId);
    const left = line.quantity - held.refundedQuantity - held.reservedQuantity;
    if (left <= 0) refuse('LINE_ALREADY_REFUNDED', `line ${line.lineId} is already refunded (or being refunded) in full`);
    if (request.quantity > left) refuse('REFUND_EXCEEDS_REFUNDABLE', `line ${line.lineId}: ${request.quantity} units asked, ${left} left to refund`);
    priced.push({ lineId: line.lineId, skuId: line.skuId, quantity: request.quantity, amountFen: amountOf(terms.refundableFenOf(line), line.quantity, held, request.quantity) });
  }
  if (!terms.partialAllowed) {
    const partial = terms.lines.some((line) => {
      const held = peek(book, line.lineId);
      const asked = priced.find((candidate) => candidate.lineId === line.lineId)?.quantity ?? 0;
      return held.refundedQuantity + held.reservedQuantity + asked < line.quantity;
    });
    if (partial) refuse('PARTIAL_REFUND_NOT_ALLOWED', terms.partialRefusal ?? 'this order can only be refunded in full: ask for every unit');
  }
  addFreight(book, terms, priced);
  const amountFen = priced.reduce((sum, line) => sum + line.amountFen, 0);
  const leftFen = unrefundedFen(book, terms.paidFen) - reservedFen(book);
  if (amountFen > leftFen) refuse('REFUND_EXCEEDS_REFUNDABLE', `${amountFen} asked, ${leftFen} left to refund on the order`);
  return priced;
}

/** A request that leaves no unit unrefunded gives the freight back too (once), on its last line. */
function addFreight(book: RefundBook, terms: PricingTerms, priced: RefundLine[]): void {
  const freightFen = terms.freightFen ?? 0;
  if (freightFen <= 0 || (book.freightReservedFen ?? 0) + (book.freightRefundedFen ?? 0) > 0 || priced.length === 0) return;
  const everyUnit = terms.lines.every((line) => {
    const held = peek(book, line.lineId);
    const asked = priced.find((candidate) => candidate.lineId === line.lineId)?.quantity ?? 0;
    return held.refundedQuantity + held.reservedQuantity + asked >= line.quantity;
  });
  if (!everyUnit) return;
  const last = priced[priced.length - 1];
  priced[priced.length - 1] = { ...last, amountFen: last.amountFen + freightFen, freightFen };
}

/**
 * What `quantity` more units of a line refund: what the buyer paid for it split over its units, for
 * the next units not yet refunded or reserved, never more than the line has left.
 */
function amountOf(paidFen: number, units: number, held: LineBook, quantity: number): number {
  const perUnit = allocateProRata(paidFen, new Array<number>(units).fill(1));
  const from = held.refundedQuantity + held.reservedQuantity;
  const amount = perUnit.slice(from, from + quantity).reduce((sum, unit) => sum + unit, 0);
  return Math.max(0, Math.min(amount, paidFen - held.committedFen - held.reservedFen));
}

export function reserve(book: RefundBook, lines: readonly RefundLine[]): void {
  for (const line of lines) {
    const held = lineBook(book, line.lineId);
    held.reservedQuantity += line.quantity;
    held.reservedFen += line.amountFen;
    if (line.freightFen) book.freightReservedFen = (book.freightReservedFen ?? 0) + line.freightFen;
  }
}

/** A request rejected, closed or failed before approval: its reservation is free again. */
export function releaseReservation(book: RefundBook, lines: readonly RefundLine[]): void {
  for (const line of lines) {
    const held = lineBook(book, line.lineId);
    held.reservedQuantity = Math.max(0, held.reservedQuantity - line.quantity);
    held.reservedFen = Math.max(0, held.reservedFen - line.amountFen);
    if (line.freightFen) book.freightReservedFen = Math.max(0, (book.freightReservedFen ?? 0) - line.freightFen);
  }
}

export interface PlanTerms {
  requestId: string;
  approvedFen: number;
  reserved: readonly RefundLine[];
  lines: readonly OrderLineView[];
  paidFen: number;
  pointsUsed: number;
  couponId?: string;
  shipped: boolean;
  /** What a full refund before shipment gives back of the placement holds. */
  releaseOnFullRefund: HeldStockRelease;
}

/** Turns an approved request's reservation into a refund: which effects it carries (once each). */
export function planRefund(book: RefundBook, terms: PlanTerms): RefundPlan {
  const { reserved, approvedFen } = terms;
  const requestedFen = reserved.reduce((sum, line) => sum + line.amountFen, 0);
  const amounts = approvedFen === requestedFen ? reserved.map((line) => line.amountFen) : allocateProRata(approvedFen, reserved.map((line) => line.amountFen));
  const lines = reserved.map((line, index) => ({ ...line, amountFen: amounts[index] }));
  for (const [index, line] of reserved.entries()) {
    const held = lineBook(book, line.lineId);
    held.reservedQuantity -= line.quantity;
    held.reservedFen -= line.amountFen;
    held.refundedQuantity += line.quantity;
    held.committedFen += amounts[index];
    if (line.freightFen) {
      book.freightReservedFen = Math.max(0, (book.freightReservedFen ?? 0) - line.freightFen);
      book.freightRefundedFen = (book.freightRefundedFen ?? 0) + line.freightFen;
    }
  }
  book.committedFen += approvedFen;
  const everyUnit = everyUnitRefunded(book, terms.lines);
  const givenBackFen = book.committedFen + book.compensatedFen;
  const allMoney = givenBackFen >= terms.paidFen;

  const pointsTarget = everyUnit ? terms.pointsUsed : terms.paidFen > 0 ? Math.floor((terms.pointsUsed * Math.min(givenBackFen, terms.paidFen)) / terms.paidFen) : 0;
  const usedPointsToReturn = Math.max(0, pointsTarget - book.usedPointsReturned);
  book.usedPointsReturned += usedPointsToReturn;

  let release: HeldStockRelease = {};
  if (!terms.shipped) {
    // Nothing left to ship: the whole reservation goes back (it holds the earlier refunded units too).
    if (everyUnit) {
      release = terms.releaseOnFullRefund;
      book.restockAfterShipment.length = 0;
    } else {
      for (const line of lines) book.restockAfterShipment.push({ skuId: line.skuId, quantity: line.quantity });
    }
  }
  let returnCouponId: string | undefined;
  if (everyUnit && terms.couponId && !book.couponReturned) {
    returnCouponId = terms.couponId;
    book.couponReturned = true;
  }
  return {
    requestId: terms.requestId,
    amountFen: approvedFen,
    lines,
    pointsReversalFen: allMoney ? terms.paidFen : approvedFen,
    usedPointsToReturn,
    returnCouponId,
    ...release,
  };
}

// --- what a cancel's compensation still gives back, once refunds took their part ---------------

export function pointsLeftToReturn(book: RefundBook, pointsUsed: number): number {
  return Math.max(0, pointsUsed - book.usedPointsReturned);
}

export function noteCompensatedFen(book: RefundBook, fen: number): void {
  book.compensatedFen += fen;
}

export function notePointsReturned(book: RefundBook, points: number): void {
  book.usedPointsReturned += points;
}

export function noteCouponReturned(book: RefundBook): void {
  book.couponReturned = true;
}
