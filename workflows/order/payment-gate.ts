/**
 * One gate per payment intent of an order (the standard payment, a presale's deposit and final
 * payment): OPEN → RECEIVED (the provider said paid) → CAPTURED, or CLOSED (timeout, cancel) before
 * any payment. Pure: the order asks `judgePayment` what an incoming payment event is and acts on it.
 * A payment for a CLOSED gate is late: refunded automatically, in every order type.
 */
export type GateName = 'payment' | 'deposit' | 'final';
export type GateState = 'OPEN' | 'RECEIVED' | 'CAPTURED' | 'CLOSED';

export interface PaymentGate {
  name: GateName;
  intentId: string;
  amountFen: number;
  currency: string;
  state: GateState;
  paidAt?: string;
}

export interface PaymentEvent {
  eventId: string;
  intentId: string;
  amountFen: number;
  currency?: string;
}

export type PaymentVerdict =
  | { kind: 'accept'; gate: PaymentGate }
  | { kind: 'duplicate'; gate: PaymentGate }
  | { kind: 'late'; gate: PaymentGate }
  | { kind: 'refused'; reason: string };

export function judgePayment(gates: readonly PaymentGate[], event: PaymentEvent): PaymentVerdict {
  const gate = gates.find((candidate) => candidate.intentId === event.intentId);
  if (!gate) return { kind: 'refused', reason: `intent ${event.intentId} is not a payment of this order` };
  if (event.amountFen !== gate.amountFen) {
    return { kind: 'refused', reason: `amount ${event.amountFen} does not match the ${gate.name} intent's ${gate.amountFen}` };
  }
  if (event.currency !== undefined && event.currency !== gate.currency) {
    return { kind: 'refused', reason: `currency ${event.currency} does not match the ${gate.name} intent's ${gate.currency}` };
  }
  if (gate.state === 'OPEN') return { kind: 'accept', gate };
  if (gate.state === 'CLOSED') return { kind: 'late', gate };
  return { kind: 'duplicate', gate };
}

const moves: Record<GateState, readonly GateState[]> = {
  OPEN: ['RECEIVED', 'CLOSED'],
  RECEIVED: ['CAPTURED'],
  CAPTURED: [],
  CLOSED: [],
};

/** Moves a gate; a move outside OPEN → RECEIVED → CAPTURED | OPEN → CLOSED is a bug (throws). */
export function moveGate(gate: PaymentGate, to: GateState): void {
  if (!moves[gate.state].includes(to)) throw new Error(`payment gate ${gate.name} cannot move from ${gate.state} to ${to}`);
  gate.state = to;
}

/** Closes the gate if it is still open (no payment came): true when it was closed now. */
export function closeIfOpen(gate: PaymentGate | undefined): boolean {
  if (!gate || gate.state !== 'OPEN') return false;
  gate.state = 'CLOSED';
  return true;
}
