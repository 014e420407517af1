import type { OrderPhase, OrderStatus } from '../shared/kinds';

export type { OrderPhase } from '../shared/kinds';

/**
 * Which phase may follow which (NEEDS_ATTENTION is entered from any live phase and left back to the
 * phase it interrupted, see attention.ts). A move outside this table is a bug in the workflow code:
 * `nextPhase` throws, which fails the workflow task (the run waits for a fix, it does not end).
 */
const transitions: Record<OrderPhase, readonly OrderPhase[]> = {
  PLACING: ['AWAITING_PAYMENT', 'PAID', 'REJECTED'],
  AWAITING_PAYMENT: ['PAYMENT_RECEIVED', 'PAID', 'CANCELLING'],
  PAYMENT_RECEIVED: ['PAID', 'DEPOSIT_PAID'],
  DEPOSIT_PAID: ['AWAITING_FINAL_PAYMENT', 'CANCELLING', 'REFUNDED'],
  AWAITING_FINAL_PAYMENT: ['FINAL_PAYMENT_RECEIVED', 'CANCELLING', 'REFUNDED'],
  FINAL_PAYMENT_RECEIVED: ['PAID'],
  // A one-parcel order goes to SHIPPED at once; with several, PARTIALLY_SHIPPED until every parcel left or failed.
  PAID: ['SHIPPED', 'PARTIALLY_SHIPPED', 'CANCELLING', 'REFUNDED'],
  PARTIALLY_SHIPPED: ['SHIPPED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: ['COMPLETED', 'REFUNDED'],
  CANCELLING: ['CANCELLED'],
  NEEDS_ATTENTION: [],
  REJECTED: [],
  COMPLETED: [],
  CANCELLED: [],
  REFUNDED: [],
};

export const allPhases = Object.keys(transitions) as OrderPhase[];

export const terminalPhases: readonly OrderPhase[] = ['REJECTED', 'COMPLETED', 'CANCELLED', 'REFUNDED'];

export function isTerminal(phase: OrderPhase): boolean {
  return terminalPhases.includes(phase);
}

export function canMove(from: OrderPhase, to: OrderPhase): boolean {
  if (to === 'NEEDS_ATTENTION') return !isTerminal(from) && from !== 'NEEDS_ATTENTION';
  return transitions[from].includes(to);
}

export function nextPhase(from: OrderPhase, to: OrderPhase): OrderPhase {
  if (!canMove(from, to)) throw new Error(`order phase ${from} cannot move to ${to}`);
  return to;
}

/** The phases before the goods leave: compensation can still undo everything. */
export const beforeShipment: readonly OrderPhase[] = [
  'PLACING',
  'AWAITING_PAYMENT',
  'PAYMENT_RECEIVED',
  'PAID',
  'DEPOSIT_PAID',
  'AWAITING_FINAL_PAYMENT',
  'FINAL_PAYMENT_RECEIVED',
];

/** The buyer-facing status of a phase, when the phase decides it (the presale's statuses are its own). */
export const statusOfPhase: Partial<Record<OrderPhase, OrderStatus>> = {
  PLACING: 'PLACING',
  REJECTED: 'REJECTED',
  AWAITING_PAYMENT: 'PENDING_PAYMENT',
  PAYMENT_RECEIVED: 'PENDING_PAYMENT',
  PAID: 'PAID',
  DEPOSIT_PAID: 'DEPOSIT_PAID',
  AWAITING_FINAL_PAYMENT: 'FINAL_PAYMENT_DUE',
  FINAL_PAYMENT_RECEIVED: 'FINAL_PAYMENT_DUE',
  PARTIALLY_SHIPPED: 'SHIPPED',
  SHIPPED: 'SHIPPED',
  DELIVERED: 'DELIVERED',
  COMPLETED: 'COMPLETED',
  CANCELLED: 'CANCELLED',
  REFUNDED: 'REFUNDED',
};
