import type { Pool } from 'pg';
import { sleep } from './client';
import { StepError, type Actors, type OrderType, type Placed, type View } from './actors';
import { newBuyer, SKUS } from './shop';

/**
 * The orders of a chaos run: every order type through every path (paid and completed, cancelled
 * before payment, payment timeout, cancelled after payment, shipment failure, refund-only before
 * shipment in full and in part, return-and-refund after delivery, rejected refund, late payment, and
 * the type's own: failed group, missed final payment, refundable deposit), each driven through the
 * HTTP API as buyers, the warehouse and support agents would.
 */
export const COMMON_PATHS = [
  'completed',
  'cancel-before-payment',
  'payment-timeout',
  'cancel-after-payment',
  'shipment-failure',
  'refund-full-before-shipment',
  'refund-partial-before-shipment',
  'partial-refund-then-shipment-failure',
  'return-and-refund',
  'rejected-refund',
  'late-payment',
] as const;
const OWN_PATHS: Record<OrderType, string[]> = {
  STANDARD: [],
  PRESALE: ['final-payment-missed', 'deposit-refunded-on-cancel'],
  GROUP_BUY: ['group-failed'],
  FLASH_SALE: [],
};
export const ORDER_TYPES: OrderType[] = ['STANDARD', 'PRESALE', 'GROUP_BUY', 'FLASH_SALE'];
/** Paths a type's rules refuse: a flash-sale order is refunded in full before shipment, never in part. */
const NOT_FOR: Record<OrderType, string[]> = {
  STANDARD: [],
  PRESALE: [],
  GROUP_BUY: [],
  FLASH_SALE: ['refund-partial-before-shipment', 'partial-refund-then-shipment-failure'],
};

/** The end states each path may correctly reach. */
const EXPECTED: Record<string, string[]> = {
  completed: ['COMPLETED'],
  'cancel-before-payment': ['CANCELLED'],
  'payment-timeout': ['CANCELLED'],
  'cancel-after-payment': ['CANCELLED', 'REFUNDED'],
  'shipment-failure': ['CANCELLED', 'REFUNDED'],
  'refund-full-before-shipment': ['REFUNDED', 'CANCELLED'],
  'refund-partial-before-shipment': ['COMPLETED'],
  'partial-refund-then-shipment-failure': ['CANCELLED', 'REFUNDED'],
  'return-and-refund': ['REFUNDED'],
  'rejected-refund': ['COMPLETED'],
  'late-payment': ['CANCELLED'],
  'group-failed': ['CANCELLED', 'REFUNDED'],
  'final-payment-missed': ['CANCELLED'],
  'deposit-refunded-on-cancel': ['CANCELLED'],
  'group partner (completed)': ['COMPLETED'],
  'coupon race: second order (cancelled)': ['CANCELLED'],
};

export interface Scenario {
  n: number;
  type: OrderType;
  path: string;
}

export interface OrderRecord {
  orderId: string;
  scenario: number;
  type: OrderType;
  path: string;
  memberId: string;
  expected: string[];
  /** Status when the scenario ended (the final figures are read again after settling). */
  endStatus?: string;
  error?: string;
}

export interface DriveResult {
  orders: OrderRecord[];
  /** Scenarios that ended before an order existed (flash sale sold out, placement refused...). */
  refused: { scenario: Scenario; reason: string }[];
  /** Scenarios that broke off with an error before their order existed. */
  failedBeforeOrder: { scenario: Scenario; error: string }[];
}

/** `count` scenarios cycling through every type × path, shuffled by `random` so types and paths interleave. */
export function planScenarios(count: number, random: () => number): Scenario[] {
  // Path by path, each across the four types: a short run still sees every type.
  const paths = [...COMMON_PATHS, ...new Set(Object.values(OWN_PATHS).flat())];
  const applies = (type: OrderType, path: string) =>
    OWN_PATHS[type].includes(path) || ((COMMON_PATHS as readonly string[]).includes(path) && !NOT_FOR[type].includes(path));
  const combos = paths.flatMap((path) => ORDER_TYPES.filter((type) => applies(type, path)).map((type) => ({ type, path })));
  const plan = Array.from({ length: count }, (_, index) => ({ n: index + 1, ...combos[index % combos.length] }));
  for (let i = plan.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j], plan[i]];
  }
  return plan;
}

export interface DriveOptions {
  pool: Pool;
  actors: Actors;
  runId: string;
  /** Scenarios start evenly over this window. */
  spreadMs: number;
  paymentTimeoutMs: number;
  log: (line: string) => void;
}

export async function drive(scenarios: Scenario[], options: DriveOptions): Promise<DriveResult> {
  const result: DriveResult = { orders: [], refused: [], failedBeforeOrder: [] };
  const gap = scenarios.length > 1 ? options.spreadMs / scenarios.length : 0;
  let finished = 0;
  await Promise.all(
    scenarios.map(async (scenario, index) => {
      await sleep(Math.floor(index * gap));
      await runScenario(scenario, options, result);
      finished += 1;
      if (finished % 20 === 0 || finished === scenarios.length) options.log(`  ${finished}/${scenarios.length} scenarios done`);
    }),
  );
  return result;
}

async function runScenario(scenario: Scenario, options: DriveOptions, result: DriveResult): Promise<void> {
  const { actors: a } = options;
  const track = (placed: Placed, path = scenario.path): OrderRecord => {
    const record: OrderRecord = { orderId: placed.orderId, scenario: scenario.n, type: scenario.type, path, memberId: placed.memberId, expected: EXPECTED[path] };
    result.orders.push(record);
    return record;
  };
  let main: OrderRecord | undefined;
  try {
    const subject = await openOrder(scenario, options, result, track);
    if (!subject) return;
    main = subject.record;
    const end = await followPath(scenario, subject, a, options);
    main.endStatus = end.status;
  } catch (error) {
    const message = error instanceof StepError ? error.message : `unexpected: ${(error as Error).stack ?? error}`;
    if (!main) {
      result.failedBeforeOrder.push({ scenario, error: message });
      return;
    }
    main.error = message;
    main.endStatus = await a.getOrder(main.memberId, main.orderId).then((view) => view.status, () => undefined);
  }
}

interface Subject {
  record: OrderRecord;
  placed: Placed;
  /** Pays everything due until the order can ship (presale: deposit and final; group-buy: until the group succeeded). */
  payFully(): Promise<View>;
  /** The first payment's intent (deposit for presale). */
  firstIntent: string;
}

const PAID_PATHS_NEED_TWO_UNITS = new Set(['refund-partial-before-shipment', 'partial-refund-then-shipment-failure']);
const UNPAID_PATHS = new Set(['cancel-before-payment', 'payment-timeout', 'late-payment']);

async function openOrder(
  scenario: Scenario,
  options: DriveOptions,
  result: DriveResult,
  track: (placed: Placed, path?: string) => OrderRecord,
): Promise<Subject | undefined> {
  const { actors: a, pool, runId } = options;
  const quantity = PAID_PATHS_NEED_TWO_UNITS.has(scenario.path) ? 2 : 1;
  const key = (suffix: string) => `chaos-${runId}-${scenario.n}-${suffix}`;
  const memberId = `mem_chaos_${runId}_${scenario.n}`;
  const withCoupon = scenario.n % 2 === 0;
  const buyer = await newBuyer(pool, memberId, withCoupon);
  const points = scenario.n % 3 === 0 ? { pointsToRedeem: 300 } : {};
  const coupon = buyer.couponId ? { couponId: buyer.couponId } : {};

  switch (scenario.type) {
    case 'STANDARD': {
      const body = { lines: [{ skuId: SKUS.standardA.id, quantity }, ...(scenario.path === 'completed' ? [{ skuId: SKUS.standardB.id, quantity: 1 }] : [])], ...coupon, ...points };
      // A buyer racing two orders with one coupon: at most one may take it.
      const race = scenario.path === 'completed' && buyer.couponId;
      const [first, second] = await Promise.all([
        a.placeStandard(memberId, body, key('order')),
        race ? a.placeStandard(memberId, body, key('order-race')) : Promise.resolve(undefined),
      ]);
      if (second?.status === 201) {
        const extra = track({ orderId: second.body.orderId, memberId, view: second.body }, 'coupon race: second order (cancelled)');
        void a.cancel(memberId, extra.orderId).then(
          () => a.waitForStatus(memberId, extra.orderId, ['CANCELLED']).then((view) => (extra.endStatus = view.status)),
          (error) => (extra.error = (error as Error).message),
        );
      }
      if (first.status === 422) {
        if (second?.status === 201) return undefined; // the other one got the coupon; this order never existed
        result.refused.push({ scenario, reason: `placement refused: ${first.body?.detail ?? first.status}` });
        return undefined;
      }
      if (first.status !== 201 && first.status !== 200) throw new StepError('place order', `HTTP ${first.status} ${JSON.stringify(first.body).slice(0, 300)}`);
      const placed = { orderId: first.body.orderId, memberId, view: first.body };
      const record = track(placed);
      return {
        record,
        placed,
        firstIntent: placed.view.payment?.intentId,
        payFully: async () => {
          await a.pay(placed.view.payment?.intentId);
          return a.waitForStatus(memberId, placed.orderId, ['PAID']);
        },
      };
    }
    case 'PRESALE': {
      const campaignId = await a.createPresale({
        finalInMs: 60_000,
        finalForMs: scenario.path === 'final-payment-missed' ? 8_000 : 90_000,
        refundable: scenario.path === 'deposit-refunded-on-cancel',
      });
      const placed = await a.placePresale(memberId, campaignId, quantity, key('deposit'));
      const record = track(placed);
      return {
        record,
        placed,
        firstIntent: placed.view.payment?.intentId,
        payFully: async () => {
          await a.pay(placed.view.payment?.intentId, 'pay deposit');
          await a.waitForStatus(memberId, placed.orderId, ['DEPOSIT_PAID', 'FINAL_PAYMENT_DUE']);
          await a.waitForStatus(memberId, placed.orderId, ['FINAL_PAYMENT_DUE'], 240_000);
          const finalIntent = await a.finalPayment(memberId, placed.orderId, buyer.couponId);
          await a.pay(finalIntent, 'pay final payment');
          return a.waitForStatus(memberId, placed.orderId, ['PAID']);
        },
      };
    }
    case 'GROUP_BUY': {
      const failing = scenario.path === 'group-failed';
      const unpaid = UNPAID_PATHS.has(scenario.path);
      const campaignId = await a.createGroupBuy({ size: failing ? 3 : 2, endsInMs: failing ? 90_000 : unpaid ? 120_000 : 300_000 });
      const placed = await a.placeGroupBuy(memberId, campaignId, { quantity, ...coupon, ...points }, key('leader'));
      const record = track(placed);
      const groupId: string = placed.view.group?.groupId;
      const payPartner = async () => {
        const partnerId = `${memberId}_partner`;
        await newBuyer(pool, partnerId, false);
        const partner = await a.placeGroupBuy(partnerId, campaignId, { quantity: 1, groupId }, key('partner'));
        const partnerRecord = track(partner, failing ? 'group-failed' : 'group partner (completed)');
        await a.pay(partner.view.payment?.intentId, 'partner pays');
        return { partner, partnerRecord };
      };
      return {
        record,
        placed,
        firstIntent: placed.view.payment?.intentId,
        payFully: async () => {
          const { partner, partnerRecord } = await payPartner();
          await a.pay(placed.view.payment?.intentId);
          const succeeded = (view: View) => view.status === 'PAID' && view.group?.outcome === 'SUCCEEDED';
          // The partner takes its own path in the background, whatever becomes of the leader's.
          void (async () => {
            if (failing) {
              partnerRecord.endStatus = (await a.waitForStatus(partner.memberId, partner.orderId, ['CANCELLED', 'REFUNDED'], 300_000)).status;
              return;
            }
            await a.waitFor('partner: group to succeed', partner.memberId, partner.orderId, succeeded);
            await a.ship(partner.orderId);
            await a.deliver(partner.orderId);
            partnerRecord.endStatus = (await a.waitForStatus(partner.memberId, partner.orderId, ['COMPLETED'])).status;
          })().catch(async (error) => {
            partnerRecord.error = (error as Error).message;
            partnerRecord.endStatus = await a.getOrder(partner.memberId, partner.orderId).then((view) => view.status, () => undefined);
          });
          if (failing) return a.waitForStatus(memberId, placed.orderId, ['PAID']);
          await a.waitFor('group to succeed', memberId, placed.orderId, succeeded);
          return a.waitForStatus(memberId, placed.orderId, ['PAID']);
        },
      };
    }
    case 'FLASH_SALE': {
      const placed = await a.placeFlash(memberId, quantity, key('flash'));
      if (!placed) {
        result.refused.push({ scenario, reason: 'flash sale sold out (409)' });
        return undefined;
      }
      if (placed.view.status === 'REJECTED') {
        track(placed).endStatus = 'REJECTED';
        return undefined;
      }
      const record = track(placed);
      return {
        record,
        placed,
        firstIntent: placed.view.payment?.intentId,
        payFully: async () => {
          await a.pay(placed.view.payment?.intentId);
          return a.waitForStatus(memberId, placed.orderId, ['PAID']);
        },
      };
    }
  }
}

async function followPath(scenario: Scenario, subject: Subject, a: Actors, options: DriveOptions): Promise<View> {
  const { orderId, memberId } = subject.placed;
  const key = (suffix: string) => `chaos-${options.runId}-${scenario.n}-${suffix}`;
  const wait = (statuses: string[], timeoutMs?: number) => a.waitForStatus(memberId, orderId, statuses, timeoutMs);
  const mustBeAccepted = async (step: string, call: Promise<{ status: number; body: View }>) => {
    const answer = await call;
    if (answer.status !== 200) throw new StepError(step, `HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  };
  const shipAndDeliver = async () => {
    await mustBeAccepted('ship', a.ship(orderId));
    // Every other order is confirmed by the carrier, the rest auto-confirm (DELIVERY_AUTO_CONFIRM).
    if (scenario.n % 2 === 0) await a.deliver(orderId);
    return wait(['COMPLETED']);
  };
  const refundThen = async (kind: 'REFUND_ONLY' | 'RETURN_AND_REFUND', quantity: number, decision: 'approve' | 'reject') => {
    const requestId = await a.requestRefund(memberId, orderId, kind, quantity, key(`refund-${kind}`));
    await a.decide(requestId, decision);
    if (decision === 'reject') return a.waitForRequest(requestId, ['REJECTED']);
    if (kind === 'RETURN_AND_REFUND') await a.returnGoods(memberId, requestId);
    return a.waitForRequest(requestId, ['REFUNDED']);
  };

  switch (scenario.path) {
    case 'completed':
      await subject.payFully();
      return shipAndDeliver();
    case 'cancel-before-payment':
      await mustBeAccepted('cancel before payment', a.cancel(memberId, orderId));
      return wait(['CANCELLED']);
    case 'payment-timeout':
      return wait(['CANCELLED'], options.paymentTimeoutMs + 120_000);
    case 'late-payment':
      await a.delayWebhook(orderId, options.paymentTimeoutMs + 10_000);
      await a.pay(subject.firstIntent, 'pay (callback held back past the timeout)');
      return wait(['CANCELLED'], options.paymentTimeoutMs + 120_000);
    case 'cancel-after-payment':
      await subject.payFully();
      await mustBeAccepted('cancel after payment', a.cancel(memberId, orderId));
      return wait(['CANCELLED', 'REFUNDED']);
    case 'shipment-failure':
      await subject.payFully();
      await a.shipmentFailed(orderId);
      return wait(['CANCELLED', 'REFUNDED']);
    case 'refund-full-before-shipment':
      await subject.payFully();
      await refundThen('REFUND_ONLY', 1, 'approve');
      return wait(['REFUNDED', 'CANCELLED']);
    case 'refund-partial-before-shipment':
      await subject.payFully();
      await refundThen('REFUND_ONLY', 1, 'approve');
      return shipAndDeliver();
    case 'partial-refund-then-shipment-failure':
      await subject.payFully();
      await refundThen('REFUND_ONLY', 1, 'approve');
      await a.shipmentFailed(orderId);
      return wait(['CANCELLED', 'REFUNDED']);
    case 'return-and-refund':
      await subject.payFully();
      await mustBeAccepted('ship', a.ship(orderId));
      await a.deliver(orderId); // 409 when auto-confirm came first: fine
      await wait(['DELIVERED']);
      await refundThen('RETURN_AND_REFUND', 1, 'approve');
      return wait(['REFUNDED']);
    case 'rejected-refund':
      await subject.payFully();
      await refundThen('REFUND_ONLY', 1, 'reject');
      return shipAndDeliver();
    case 'group-failed':
      await subject.payFully();
      return wait(['CANCELLED', 'REFUNDED'], 300_000);
    case 'final-payment-missed':
      await a.pay(subject.firstIntent, 'pay deposit');
      await wait(['DEPOSIT_PAID', 'FINAL_PAYMENT_DUE']);
      return wait(['CANCELLED'], 300_000);
    case 'deposit-refunded-on-cancel':
      await a.pay(subject.firstIntent, 'pay deposit');
      await wait(['DEPOSIT_PAID', 'FINAL_PAYMENT_DUE']);
      await mustBeAccepted('cancel after the deposit (refundable)', a.cancel(memberId, orderId));
      return wait(['CANCELLED']);
    default:
      throw new StepError('plan', `unknown path ${scenario.path}`);
  }
}
