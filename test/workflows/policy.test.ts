import { allPhases, canMove, isTerminal } from '../../workflows/order/phase';
import {
  canAttend,
  canCancel,
  canChangeAddress,
  canConfirmDelivery,
  canDeliverParcel,
  canPayFinal,
  canRecordCarrierEvent,
  canReportParcelFailure,
  canShipParcel,
  canReportShipmentFailure,
  canRequestRefund,
  canShip,
  type OrderFacts,
  waitsOutRefusal,
} from '../../workflows/order/policy';
import type { OrderPhase, OrderType } from '../../workflows/shared/kinds';
import type { Decision } from '../../workflows/shared/refusals';

/**
 * The policy as a table: every phase × action × order type, with the facts an order in that phase
 * usually has; then the facts that change an answer. Each cell is the expected code, or 'ok'.
 */
const types: OrderType[] = ['STANDARD', 'PRESALE', 'GROUP_BUY', 'FLASH_SALE'];
const windows = { finalStart: '2026-12-01T00:00:00Z', finalEnd: '2026-12-02T00:00:00Z' };

const actions: Record<string, (facts: OrderFacts) => Decision> = {
  cancel: canCancel,
  ship: canShip,
  reportShipmentFailure: canReportShipmentFailure,
  confirmDelivery: canConfirmDelivery,
  refundOnly: (facts) => canRequestRefund(facts, 'REFUND_ONLY'),
  returnAndRefund: (facts) => canRequestRefund(facts, 'RETURN_AND_REFUND'),
  payFinal: (facts) => canPayFinal(facts, windows),
  attend: canAttend,
  // Parcels: a parcel still with its warehouse (ship, fail) or on its way (deliver, carrier event).
  shipParcel: (facts) => canShipParcel(facts, { parcelId: 'p1', status: 'PENDING' }),
  reportParcelFailure: (facts) => canReportParcelFailure(facts, { parcelId: 'p1', status: 'PENDING' }),
  deliverParcel: (facts) => canDeliverParcel(facts, { parcelId: 'p1', status: 'IN_TRANSIT' }),
  carrierEvent: (facts) => canRecordCarrierEvent(facts, { parcelId: 'p1', status: 'SHIPPED' }),
  changeAddress: canChangeAddress,
};

type Row = Partial<Record<OrderPhase, string>> & { other: string };
/** What each action answers per phase (type-independent cells); `other` for every phase not named. */
const table: Record<string, Row> = {
  cancel: {
    PLACING: 'ORDER_PLACING',
    AWAITING_PAYMENT: 'ok',
    PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS',
    FINAL_PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS',
    PAID: 'ok',
    DEPOSIT_PAID: 'DEPOSIT_NOT_REFUNDABLE',
    AWAITING_FINAL_PAYMENT: 'DEPOSIT_NOT_REFUNDABLE',
    CANCELLING: 'ALREADY_CANCELLING',
    NEEDS_ATTENTION: 'ORDER_NEEDS_ATTENTION',
    other: 'NOT_CANCELLABLE',
  },
  ship: { PAID: 'ok', PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS', FINAL_PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS', NEEDS_ATTENTION: 'ORDER_NEEDS_ATTENTION', other: 'NOT_SHIPPABLE' },
  reportShipmentFailure: { PAID: 'ok', PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS', FINAL_PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS', NEEDS_ATTENTION: 'ORDER_NEEDS_ATTENTION', other: 'NOT_SHIPPABLE' },
  confirmDelivery: { SHIPPED: 'ok', other: 'NOT_DELIVERABLE' },
  refundOnly: {
    PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS',
    FINAL_PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS',
    PAID: 'ok',
    PARTIALLY_SHIPPED: 'PARCELS_PENDING',
    SHIPPED: 'ok',
    DELIVERED: 'ok',
    DEPOSIT_PAID: 'DEPOSIT_NOT_REFUNDABLE',
    AWAITING_FINAL_PAYMENT: 'DEPOSIT_NOT_REFUNDABLE',
    NEEDS_ATTENTION: 'ORDER_NEEDS_ATTENTION',
    other: 'REFUND_NOT_ALLOWED',
  },
  returnAndRefund: {
    PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS',
    FINAL_PAYMENT_RECEIVED: 'PAYMENT_IN_PROGRESS',
    DELIVERED: 'ok',
    PARTIALLY_SHIPPED: 'PARCELS_PENDING',
    DEPOSIT_PAID: 'DEPOSIT_NOT_REFUNDABLE',
    AWAITING_FINAL_PAYMENT: 'DEPOSIT_NOT_REFUNDABLE',
    NEEDS_ATTENTION: 'ORDER_NEEDS_ATTENTION',
    other: 'REFUND_NOT_ALLOWED',
  },
  payFinal: {
    AWAITING_PAYMENT: 'FINAL_WINDOW_NOT_OPEN',
    PAYMENT_RECEIVED: 'FINAL_WINDOW_NOT_OPEN',
    DEPOSIT_PAID: 'FINAL_WINDOW_NOT_OPEN',
    AWAITING_FINAL_PAYMENT: 'ok',
    NEEDS_ATTENTION: 'ORDER_NEEDS_ATTENTION',
    other: 'NOT_AWAITING_FINAL_PAYMENT',
  },
  attend: { NEEDS_ATTENTION: 'ok', other: 'NOT_NEEDING_ATTENTION' },
  shipParcel: { PAID: 'ok', PARTIALLY_SHIPPED: 'ok', NEEDS_ATTENTION: 'ORDER_NEEDS_ATTENTION', other: 'NOT_SHIPPABLE' },
  reportParcelFailure: { PAID: 'ok', PARTIALLY_SHIPPED: 'ok', NEEDS_ATTENTION: 'ORDER_NEEDS_ATTENTION', other: 'NOT_SHIPPABLE' },
  deliverParcel: { PARTIALLY_SHIPPED: 'ok', SHIPPED: 'ok', NEEDS_ATTENTION: 'ok', other: 'NOT_DELIVERABLE' },
  carrierEvent: { other: 'ok' },
  changeAddress: {
    PLACING: 'ORDER_PLACING',
    AWAITING_PAYMENT: 'ok',
    PAYMENT_RECEIVED: 'ok',
    PAID: 'ok',
    DEPOSIT_PAID: 'ok',
    AWAITING_FINAL_PAYMENT: 'ok',
    FINAL_PAYMENT_RECEIVED: 'ok',
    PARTIALLY_SHIPPED: 'ALREADY_SHIPPED',
    SHIPPED: 'ALREADY_SHIPPED',
    DELIVERED: 'ALREADY_SHIPPED',
    CANCELLING: 'ALREADY_CANCELLING',
    NEEDS_ATTENTION: 'ORDER_NEEDS_ATTENTION',
    other: 'NOT_CHANGEABLE',
  },
};

/** Group-buy cells that differ while the group forms (groupOutcome PENDING). */
const formingGroup: Record<string, Partial<Record<OrderPhase, string>>> = {
  cancel: { PAID: 'GROUP_FORMING' },
  ship: { PAID: 'GROUP_NOT_SUCCEEDED' },
  reportShipmentFailure: { PAID: 'GROUP_NOT_SUCCEEDED' },
  refundOnly: { PAID: 'REFUND_NOT_ALLOWED' },
  shipParcel: { PAID: 'GROUP_NOT_SUCCEEDED', PARTIALLY_SHIPPED: 'GROUP_NOT_SUCCEEDED' },
  reportParcelFailure: { PAID: 'GROUP_NOT_SUCCEEDED', PARTIALLY_SHIPPED: 'GROUP_NOT_SUCCEEDED' },
};

function factsFor(type: OrderType, phase: OrderPhase, extra: Partial<OrderFacts> = {}): OrderFacts {
  const paid = !['PLACING', 'REJECTED', 'AWAITING_PAYMENT', 'PAYMENT_RECEIVED'].includes(phase);
  return {
    type,
    phase,
    cancelRequested: false,
    shipmentReported: false,
    deliveryConfirmed: false,
    openRefundRequests: 0,
    refundedInFull: false,
    paidFen: paid ? 10_000 : 0,
    groupOutcome: type === 'GROUP_BUY' ? 'SUCCEEDED' : undefined,
    depositRefundable: type === 'PRESALE' ? false : undefined,
    afterSalesClosed: false,
    hasShippingAddress: true,
    ...extra,
  };
}

const answer = (decision: Decision) => (decision.allowed ? 'ok' : decision.code);

const cells = types.flatMap((type) => allPhases.flatMap((phase) => Object.keys(actions).map((action) => [type, phase, action] as const)));

test.each(cells)('%s in %s: %s', (type, phase, action) => {
  const expected = table[action][phase] ?? table[action].other;
  expect(answer(actions[action](factsFor(type, phase)))).toBe(expected);
  if (type === 'GROUP_BUY') {
    const forming = formingGroup[action]?.[phase] ?? expected;
    expect(answer(actions[action](factsFor(type, phase, { groupOutcome: 'PENDING' })))).toBe(forming);
  }
});

test('the table covers every phase, action and type', () => {
  expect(cells).toHaveLength(allPhases.length * Object.keys(actions).length * types.length);
  expect(allPhases).toHaveLength(16);
});

describe('facts that change an answer', () => {
  test('the address changes until the warehouse reports on the order, and only on orders that have one', () => {
    expect(answer(canChangeAddress(factsFor('STANDARD', 'PAID', { shipmentReported: true })))).toBe('ALREADY_SHIPPED');
    expect(answer(canChangeAddress(factsFor('STANDARD', 'PAID', { cancelRequested: true })))).toBe('ALREADY_CANCELLING');
    expect(answer(canChangeAddress(factsFor('STANDARD', 'PAID', { refundedInFull: true })))).toBe('ALREADY_REFUNDED');
    expect(answer(canChangeAddress(factsFor('STANDARD', 'PAID', { hasShippingAddress: false })))).toBe('NO_SHIPPING_ADDRESS');
    expect(answer(canChangeAddress(factsFor('GROUP_BUY', 'PAID', { groupOutcome: 'PENDING' })))).toBe('ok');
  });

  test('a refundable deposit may be cancelled and refunded (refund only) before the final payment', () => {
    for (const phase of ['DEPOSIT_PAID', 'AWAITING_FINAL_PAYMENT'] as const) {
      const facts = factsFor('PRESALE', phase, { depositRefundable: true });
      expect(answer(canCancel(facts))).toBe('ok');
      expect(answer(canRequestRefund(facts, 'REFUND_ONLY'))).toBe('ok');
      expect(answer(canRequestRefund(facts, 'RETURN_AND_REFUND'))).toBe('REFUND_NOT_ALLOWED');
      expect(answer(canRequestRefund({ ...facts, finalPaymentRequested: true }, 'REFUND_ONLY'))).toBe('REFUND_NOT_ALLOWED');
    }
  });

  test('a cancel already asked for blocks a second cancel, shipment and refunds', () => {
    const facts = factsFor('STANDARD', 'PAID', { cancelRequested: true });
    expect(answer(canCancel(facts))).toBe('ALREADY_CANCELLING');
    expect(answer(canShip(facts))).toBe('ALREADY_CANCELLING');
    expect(answer(canRequestRefund(facts, 'REFUND_ONLY'))).toBe('REFUND_NOT_ALLOWED');
  });

  test('the warehouse reporting on the order blocks cancel, a second report and refunds', () => {
    const facts = factsFor('STANDARD', 'PAID', { shipmentReported: true });
    expect(answer(canCancel(facts))).toBe('WAREHOUSE_HANDLING');
    expect(answer(canShip(facts))).toBe('ALREADY_REPORTED');
    expect(answer(canRequestRefund(facts, 'REFUND_ONLY'))).toBe('REFUND_NOT_ALLOWED');
  });

  test('an open refund request blocks cancel and shipment; a full refund blocks both for good', () => {
    const open = factsFor('STANDARD', 'PAID', { openRefundRequests: 1 });
    expect(answer(canCancel(open))).toBe('REFUND_IN_PROGRESS');
    expect(answer(canShip(open))).toBe('REFUND_IN_PROGRESS');
    expect(answer(canPayFinal(factsFor('PRESALE', 'AWAITING_FINAL_PAYMENT', { openRefundRequests: 1 }), windows))).toBe('DEPOSIT_BEING_REFUNDED');
    const refunded = factsFor('STANDARD', 'PAID', { refundedInFull: true });
    expect(answer(canCancel(refunded))).toBe('ALREADY_REFUNDED');
    expect(answer(canShip(refunded))).toBe('ALREADY_REFUNDED');
  });

  test('a parcel already reported is not shipped or failed again; one not on its way is not delivered; carrier events need a shipped parcel', () => {
    for (const status of ['SHIPPED', 'DELIVERED', 'FAILED', 'EXCEPTION'] as const) {
      expect(answer(canShipParcel(factsFor('STANDARD', 'PARTIALLY_SHIPPED'), { parcelId: 'p1', status }))).toBe('PARCEL_ALREADY_REPORTED');
      expect(answer(canReportParcelFailure(factsFor('STANDARD', 'PAID'), { parcelId: 'p1', status }))).toBe('PARCEL_ALREADY_REPORTED');
    }
    for (const status of ['PENDING', 'DELIVERED', 'RETURNED', 'FAILED'] as const) {
      expect(answer(canDeliverParcel(factsFor('STANDARD', 'SHIPPED'), { parcelId: 'p1', status }))).toBe('PARCEL_NOT_ON_ITS_WAY');
    }
    expect(answer(canRecordCarrierEvent(factsFor('STANDARD', 'PAID'), { parcelId: 'p1', status: 'PENDING' }))).toBe('PARCEL_NOT_SHIPPED');
    expect(answer(canRecordCarrierEvent(factsFor('STANDARD', 'PAID'), { parcelId: 'p1', status: 'FAILED' }))).toBe('PARCEL_NOT_SHIPPED');
    expect(answer(canRecordCarrierEvent(factsFor('STANDARD', 'COMPLETED'), { parcelId: 'p1', status: 'DELIVERED' }))).toBe('ok');
    expect(answer(canShipParcel(factsFor('STANDARD', 'PAID', { openRefundRequests: 1 }), { parcelId: 'p1', status: 'PENDING' }))).toBe('REFUND_IN_PROGRESS');
    expect(answer(canShipParcel(factsFor('STANDARD', 'PAID', { cancelRequested: true }), { parcelId: 'p1', status: 'PENDING' }))).toBe('ALREADY_CANCELLING');
  });

  test('nothing paid, nothing to refund; a closed window refuses returns; a confirmed delivery is not confirmed twice', () => {
    expect(answer(canRequestRefund(factsFor('STANDARD', 'PAID', { paidFen: 0 }), 'REFUND_ONLY'))).toBe('REFUND_NOT_ALLOWED');
    expect(answer(canRequestRefund(factsFor('STANDARD', 'DELIVERED', { afterSalesClosed: true }), 'RETURN_AND_REFUND'))).toBe('REFUND_WINDOW_CLOSED');
    expect(answer(canConfirmDelivery(factsFor('STANDARD', 'SHIPPED', { deliveryConfirmed: true })))).toBe('NOT_DELIVERABLE');
  });
});

describe('phase transitions', () => {
  test('terminal phases lead nowhere, live phases may need attention', () => {
    for (const from of allPhases) {
      for (const to of allPhases) {
        if (isTerminal(from)) expect(canMove(from, to)).toBe(false);
      }
      expect(canMove(from, 'NEEDS_ATTENTION')).toBe(!isTerminal(from) && from !== 'NEEDS_ATTENTION');
    }
  });

  test('the paths of every order type are allowed', () => {
    const paths: OrderPhase[][] = [
      ['PLACING', 'AWAITING_PAYMENT', 'PAYMENT_RECEIVED', 'PAID', 'SHIPPED', 'DELIVERED', 'COMPLETED'],
      ['PLACING', 'AWAITING_PAYMENT', 'CANCELLING', 'CANCELLED'],
      ['PLACING', 'REJECTED'],
      ['PLACING', 'AWAITING_PAYMENT', 'PAYMENT_RECEIVED', 'DEPOSIT_PAID', 'AWAITING_FINAL_PAYMENT', 'FINAL_PAYMENT_RECEIVED', 'PAID'],
      ['DEPOSIT_PAID', 'AWAITING_FINAL_PAYMENT', 'CANCELLING'],
      ['PAID', 'REFUNDED'],
      ['DELIVERED', 'REFUNDED'],
      ['PAID', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED'],
    ];
    for (const path of paths) {
      for (let index = 1; index < path.length; index += 1) expect(canMove(path[index - 1], path[index])).toBe(true);
    }
    expect(canMove('SHIPPED', 'CANCELLING')).toBe(false);
    expect(canMove('PARTIALLY_SHIPPED', 'CANCELLING')).toBe(false);
    expect(canMove('PARTIALLY_SHIPPED', 'DELIVERED')).toBe(false);
    expect(canMove('PAYMENT_RECEIVED', 'CANCELLING')).toBe(false);
  });
});

test('a "moment" refusal is waited out only when the view the caller acted on is already past it', () => {
  const waited = (code: string) => allPhases.filter((phase) => waitsOutRefusal(phase, code));
  // Issue 9: a caller who saw the payment still unsettled hears "being confirmed" at once.
  for (const phase of ['PLACING', 'AWAITING_PAYMENT', 'PAYMENT_RECEIVED', 'AWAITING_FINAL_PAYMENT', 'FINAL_PAYMENT_RECEIVED'] as OrderPhase[]) {
    expect(waitsOutRefusal(phase, 'PAYMENT_IN_PROGRESS')).toBe(false);
  }
  expect(waited('PAYMENT_IN_PROGRESS')).toEqual(expect.arrayContaining(['PAID', 'DEPOSIT_PAID', 'SHIPPED']));
  expect(waited('ORDER_PLACING')).toEqual(allPhases.filter((phase) => phase !== 'PLACING'));
  // Every other refusal is final: nothing waits it out.
  for (const code of ['ALREADY_CANCELLING', 'WAREHOUSE_HANDLING', 'ORDER_NEEDS_ATTENTION', 'REFUND_IN_PROGRESS']) expect(waited(code)).toEqual([]);
});
