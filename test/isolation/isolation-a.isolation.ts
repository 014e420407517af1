import { createTestEnv, type TestEnv } from '../support/harness';
import { proveParallelAndIsolated } from './rendezvous';

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(() => env.close());

test('runs at the same time as isolation-b, with its own database and task queue', async () => {
  await proveParallelAndIsolated(env, 'a', 'b');
});
