import { waitsForTheWarehouse } from '../../bench/chaos/invariants';

/**
 * After settling, the chaos run excuses a still-running order only when it rightly waits for the
 * warehouse. A CI run once excused an order that was CANCELLING (status still PAID, its refund paid,
 * its other compensations not done) and reported a money mismatch instead of the stuck order.
 */
const brokeOff = new Set(['order-a', 'order-b', 'order-c']);
const groupClosed = new Set(['order-c']);

test('phase PAID after a broken-off scenario waits for the warehouse', () => {
  expect(waitsForTheWarehouse({ workflowId: 'order-a', phase: 'PAID' }, brokeOff, groupClosed)).toBe(true);
});

test('an order CANCELLING (status PAID) is stuck, not waiting', () => {
  expect(waitsForTheWarehouse({ workflowId: 'order-b', phase: 'CANCELLING' }, brokeOff, groupClosed)).toBe(false);
});

test('a scenario that did not break off, a member of a closed group, or an unknown phase is stuck', () => {
  expect(waitsForTheWarehouse({ workflowId: 'order-z', phase: 'PAID' }, brokeOff, groupClosed)).toBe(false);
  expect(waitsForTheWarehouse({ workflowId: 'order-c', phase: 'PAID' }, brokeOff, groupClosed)).toBe(false);
  expect(waitsForTheWarehouse({ workflowId: 'order-a' }, brokeOff, groupClosed)).toBe(false);
});
