import { createTestEnv, type TestEnv } from '../support/harness';
import { proveParallelAndIsolated } from './rendezvous';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

test('runs at the same time as isolation-b, with its own database and task queue', async () => {
  const seen = await proveParallelAndIsolated(env, 'a', 'b');
  expect(seen.sawOther).toBe(true); // the other file was running at the same time
  expect(seen.rows).toEqual(['a']); // and this file's database holds only its own row
});
