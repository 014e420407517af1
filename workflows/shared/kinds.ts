/**
 * The words every order workflow file and the API share (types only, no imports): what kind of
 * order, the status a buyer sees, and the phase that says exactly what is in flight.
 */

export type OrderType = 'STANDARD' | 'PRESALE' | 'GROUP_BUY' | 'FLASH_SALE';

/** The states a buyer sees (domain-rules.md), plus PLACING and REJECTED for the placement step. */
export type OrderStatus =
  | 'PLACING'
  | 'REJECTED'
  | 'PENDING_PAYMENT'
  | 'PAID'
  | 'SHIPPED'
  | 'DELIVERED'
  | 'COMPLETED'
  | 'CANCELLED'
  | 'REFUNDED'
  // presale: the deposit is paid, the final-payment window is not open yet / is open
  | 'DEPOSIT_PAID'
  | 'FINAL_PAYMENT_DUE';

/**
 * The phase of an order (workflows/order/phase.ts has the transitions). Finer than the status: it
 * names the moments the status hides, when a payment is being recorded (PAYMENT_RECEIVED), when
 * compensation runs (CANCELLING), and when a person must act (NEEDS_ATTENTION).
 */
export type OrderPhase =
  | 'PLACING'
  | 'REJECTED'
  | 'AWAITING_PAYMENT'
  | 'PAYMENT_RECEIVED'
  | 'PAID'
  | 'DEPOSIT_PAID'
  | 'AWAITING_FINAL_PAYMENT'
  | 'FINAL_PAYMENT_RECEIVED'
  // parcels (issue 13): the first parcel left, others are still with their warehouses (status SHIPPED)
  | 'PARTIALLY_SHIPPED'
  | 'SHIPPED'
  | 'DELIVERED'
  | 'COMPLETED'
  | 'CANCELLING'
  | 'CANCELLED'
  | 'REFUNDED'
  | 'NEEDS_ATTENTION';
