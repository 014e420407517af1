import fc from 'fast-check';
import { createMemberService, type MemberService } from '../../modules/member';
import { DomainError } from '../../modules/shared/errors';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
let member: MemberService;
beforeAll(async () => {
  env = await createTestEnv();
  member = createMemberService({ pool: env.pool });
});
afterAll(() => env.close());

const orderIds = ['o1', 'o2', 'o3'];
const orderArb = fc.constantFrom(...orderIds);
const operationArb = fc.oneof(
  { weight: 1, arbitrary: fc.record({ op: fc.constant('grant' as const), points: fc.integer({ min: 1, max: 500 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('hold' as const), order: orderArb, points: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('commit' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('award' as const), order: orderArb, paidFen: fc.integer({ min: 0, max: 80_000 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('revoke' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reverse' as const), order: orderArb, refundedFen: fc.integer({ min: 0, max: 80_000 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('complete' as const), order: orderArb, spendFen: fc.integer({ min: 0, max: 300_000 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('returnUsed' as const), order: orderArb, points: fc.integer({ min: 1, max: 150 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replay' as const), pick: fc.nat() }) },
);
type Operation = typeof operationArb extends fc.Arbitrary<infer T> ? T : never;

let runs = 0;

/** Runs a random sequence against a fresh member; business refusals are expected, anything else fails. */
async function runSequence(operations: Operation[], parallel: boolean): Promise<string> {
  const memberId = `mem_prop_${++runs}_${env.id}`;
  const order = (id: string) => `${memberId}:${id}`;
  await member.createMember({ id: memberId, name: 'Property' });
  await member.grantPoints({ idempotencyKey: `${memberId}:start`, memberId, points: 1_000, reason: 'starting balance' });
  const holdKeys: string[] = [];
  const awardKeys: string[] = [];
  const calls: (() => Promise<unknown>)[] = [];
  operations.forEach((operation, step) => {
    const key = `${memberId}:step-${step}`;
    const pick = (keys: string[], index: number) => keys[index % keys.length] ?? `${memberId}:never-applied-${index}`;
    switch (operation.op) {
      case 'grant':
        calls.push(() => member.grantPoints({ idempotencyKey: key, memberId, points: operation.points, reason: 'test' }));
        break;
      case 'hold':
        holdKeys.push(key);
        calls.push(() => member.holdPoints({ idempotencyKey: key, memberId, orderId: order(operation.order), points: operation.points }));
        break;
      case 'release': {
        const holdKey = pick(holdKeys, operation.pick);
        calls.push(() => member.releaseHeldPoints({ idempotencyKey: holdKey }));
        break;
      }
      case 'commit': {
        const holdKey = pick(holdKeys, operation.pick);
        calls.push(() => member.commitHeldPoints({ idempotencyKey: key, holdKey }));
        break;
      }
      case 'award':
        awardKeys.push(key);
        calls.push(() => member.awardPendingPoints({ idempotencyKey: key, memberId, orderId: order(operation.order), paidFen: operation.paidFen }));
        break;
      case 'revoke': {
        const awardKey = pick(awardKeys, operation.pick);
        calls.push(() => member.revokePendingPoints({ idempotencyKey: awardKey }));
        break;
      }
      case 'reverse':
        calls.push(() =>
          member.reversePointsForRefund({ idempotencyKey: key, memberId, orderId: order(operation.order), refundedFen: operation.refundedFen }),
        );
        break;
      case 'complete':
        calls.push(() =>
          member.completeOrderPoints({ idempotencyKey: key, memberId, orderId: order(operation.order), completedSpendFen: operation.spendFen }),
        );
        break;
      case 'returnUsed':
        calls.push(() => member.returnUsedPoints({ idempotencyKey: key, memberId, orderId: order(operation.order), points: operation.points }));
        break;
      case 'replay':
        if (calls.length > 0) calls.push(calls[operation.pick % calls.length]);
        break;
    }
  });
  const tolerateRefusal = (error: unknown) => {
    if (!(error instanceof DomainError)) throw error;
  };
  if (parallel) await Promise.all(calls.map((call) => call().catch(tolerateRefusal)));
  else for (const call of calls) await call().catch(tolerateRefusal);
  return memberId;
}

/** The balances row equals the sum of the entries; nothing is negative; holds and orders agree with it. */
async function expectLedgerConsistent(memberId: string): Promise<void> {
  const { points } = await member.getMember(memberId);
  const entries = await member.listPointsEntries(memberId);
  const summed = entries.reduce(
    (total, entry) => ({
      available: total.available + entry.deltaAvailable,
      pending: total.pending + entry.deltaPending,
      held: total.held + entry.deltaHeld,
    }),
    { available: 0, pending: 0, held: 0 },
  );
  expect(points).toEqual(summed);
  expect(points.available).toBeGreaterThanOrEqual(0);
  expect(points.pending).toBeGreaterThanOrEqual(0);
  expect(points.held).toBeGreaterThanOrEqual(0);
  const cross = await env.pool.query(
    `SELECT (SELECT COALESCE(SUM(points), 0) FROM member.point_holds WHERE member_id = $1 AND state = 'HELD')::int AS held,
            (SELECT COALESCE(SUM(pending_points), 0) FROM member.order_points WHERE member_id = $1)::int AS pending`,
    [memberId],
  );
  expect(cross.rows[0]).toEqual({ held: points.held, pending: points.pending });
}

test('after any sequence of operations (with retries of the same key), balances equal the sum of entries', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operationArb, { minLength: 5, maxLength: 30 }), async (operations) => {
      await expectLedgerConsistent(await runSequence(operations, false));
    }),
    { numRuns: 80 },
  );
});

test('the same holds when the operations of a sequence all run at once', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(operationArb, { minLength: 5, maxLength: 30 }), async (operations) => {
      await expectLedgerConsistent(await runSequence(operations, true));
    }),
    { numRuns: 25 },
  );
});

test('the random sequences above really exercised every kind of entry (not only refusals)', async () => {
  const kinds = await env.pool.query<{ kind: string; entries: number; shortfalls: number }>(
    `SELECT kind, COUNT(*)::int AS entries, COUNT(*) FILTER (WHERE shortfall > 0)::int AS shortfalls
       FROM member.points_entries WHERE member_id LIKE 'mem_prop_%' GROUP BY kind`,
  );
  const counted = Object.fromEntries(kinds.rows.map((row) => [row.kind, row.entries]));
  for (const kind of ['GRANT', 'HOLD', 'RELEASE_HOLD', 'COMMIT_HOLD', 'RETURN_USED', 'AWARD_PENDING', 'REVOKE_PENDING', 'REVERSE_FOR_REFUND', 'COMPLETE_ORDER']) {
    expect(counted[kind]).toBeGreaterThan(0);
  }
});
