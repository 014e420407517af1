import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../api/app';
import { signWebhook, SIGNATURE_HEADER } from '../../modules/finance';
import { API_KEYS, customerAuth, TEST_WEBHOOK_SECRET, testApiSettings } from '../support/api';
import { addMember, addSku } from '../support/fixtures';
import { createTestEnv, type TestEnv } from '../support/harness';
import { rowCounts, watchWrites } from '../support/row-counts';
import { createRandom, hostileValues, mutateRequest, operationsOf, type FuzzRequest, type OpenApiDocument } from './fuzz-requests';

/**
 * The API as an attacker or a broken client meets it: malformed requests generated from /openapi.json
 * (seeded, bounded), one mutation each. Every answer must be < 500, and a request answered anything
 * but 2xx must leave every table's row count as it was. No worker runs: a request that slipped past
 * validation into a workflow would hang and fail the test by its timeout.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2_000);

let env: TestEnv;
let server: http.Server;
let url: string;

beforeAll(async () => {
  env = await createTestEnv();
  await addSku(env.pool, 'sku_fuzz', 1_000, 5);
  await addMember(env.pool, 'mem_fuzz', 100);
  const app = createApp({ pool: env.pool, temporal: env.temporal, settings: testApiSettings(env), log: () => undefined });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await env?.close();
});

const AUTHS: Record<string, Record<string, string>> = {
  customer: { Authorization: customerAuth('mem_fuzz') },
  warehouse: { 'X-API-Key': API_KEYS.warehouse },
  support: { 'X-API-Key': API_KEYS.support },
  admin: { 'X-API-Key': API_KEYS.admin },
  none: {},
  garbage: { Authorization: 'Bearer not.a.token' },
  unknownKey: { 'X-API-Key': 'no-such-key' },
};

function send(fuzz: FuzzRequest) {
  let call = request(url)[fuzz.method](fuzz.path).timeout(15_000);
  for (const [name, value] of Object.entries(fuzz.headers)) call = call.set(name, value);
  if (fuzz.rawBody !== undefined) {
    call = call.set('content-type', fuzz.contentType ?? 'application/json');
    if (fuzz.signWebhook) call = call.set(SIGNATURE_HEADER, signWebhook(TEST_WEBHOOK_SECRET, fuzz.rawBody, Math.floor(Date.now() / 1000)));
    call = call.send(fuzz.rawBody);
  }
  return call;
}

test(`${REQUESTS} malformed requests from the OpenAPI document: no 5xx, and no row written by a refused request`, async () => {
  const document = (await request(url).get('/openapi.json')).body as OpenApiDocument;
  const operations = operationsOf(document);
  expect(operations.length).toBeGreaterThan(20);
  const random = createRandom(SEED);
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const countsBefore = await rowCounts(env.pool);
  const writes = await watchWrites(env.pool);
  let before = await writes.last();
  let answered2xx = 0;

  for (let index = 0; index < REQUESTS && failures.length < 10; index += 1) {
    const operation = operations[index % operations.length];
    const fuzz = mutateRequest(document, operation, random, AUTHS, hostileValues);
    const label = `#${index} ${fuzz.method.toUpperCase()} ${fuzz.path} [${fuzz.mutation}]`;
    let status: number;
    try {
      status = (await send(fuzz)).status;
    } catch (error) {
      failures.push(`${label}: no answer (${(error as Error).message})`);
      continue;
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status >= 200 && status < 300) answered2xx += 1;
    if (status >= 500) failures.push(`${label}: ${status}`);
    const after = await writes.last();
    if ((status < 200 || status >= 300) && after !== before) {
      failures.push(`${label}: answered ${status} but wrote ${(await writes.tablesWrittenSince(before)).join(', ')}`);
    }
    before = after;
  }

  expect(failures).toEqual([]);
  // Row counts as a whole: changed only if some request was answered 2xx.
  const countsAfter = await rowCounts(env.pool);
  delete countsAfter['test_watch.writes'];
  if (answered2xx === 0) expect(countsAfter).toEqual(countsBefore);
  const refused = [...statuses].filter(([status]) => status >= 400).reduce((sum, [, count]) => sum + count, 0);
  // Most requests must reach validation (400), not just bounce off authentication.
  expect(statuses.get(400) ?? 0).toBeGreaterThan(REQUESTS / 3);
  expect(refused).toBeGreaterThan(REQUESTS * 0.9);
}, 150_000); // about 15 s on an idle machine; the margin is for a loaded one
