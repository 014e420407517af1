import { isDatabaseUnavailable } from '../../infra/database';

/** What the API answers 503 for (PostgreSQL away) and what stays a 500 (a bug, a broken statement). */
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

test.each([
  ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
  ['a server shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
  ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
  ['a connection exception (08006)', withCode('connection failure', '08006')],
  ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
  ['a pool that cannot connect in time', new Error('timeout exceeded when trying to connect')],
  ['a wrapped cause', new Error('listing orders failed', { cause: withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED') })],
  ['every address refused', new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed')],
])('%s means the database is unavailable', (_what, error) => {
  expect(isDatabaseUnavailable(error)).toBe(true);
});

test.each([
  ['a unique violation (23505)', withCode('duplicate key value violates unique constraint', '23505')],
  ['a syntax error (42601)', withCode('syntax error at or near "SELEC"', '42601')],
  ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ['not an error at all', 'ECONNREFUSED'],
])('%s is not', (_what, error) => {
  expect(isDatabaseUnavailable(error)).toBe(false);
});
