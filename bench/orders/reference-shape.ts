import type { NoopPlan } from './noop-workflow';

/**
 * The no-op of the shape one standard order had when issue 17 was filed (its table's "no-op workflow
 * of our shape"): 16 activities and 3 updates + 1 signal, in the order's blocks: placement (project,
 * prices, quote, reserve, intent, project), payment (record, capture, award points, project), shipment
 * (commit stock, project), delivery and completion (project, points, revenue, project), and the same
 * after-sales wait. Fixed on purpose: the second target compares our throughput with this
 * shape's limit in the same run, so doing less engine work per order shows as a gain against it.
 */
export const REFERENCE_PLAN: NoopPlan = {
  messages: ['u', 's', 'u', 'u'],
  activitiesAfter: [6, 4, 2, 4],
  localActivitiesAfter: [0, 0, 0, 0],
  padTimers: 0,
  waitMs: 1_000,
};
