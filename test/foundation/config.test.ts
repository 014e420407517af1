import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, configSchema, loadConfig, parseDuration } from '../../infra/config';

test('defaults apply when nothing is set', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({
    API_PORT: 3000,
    TEMPORAL_UI_PORT: 8233,
    TEMPORAL_NAMESPACE: 'default',
    TASK_QUEUE: 'orders',
    DATA_DIR: '.data',
  });
  expect(config.DATABASE_URL).toBeUndefined();
  expect(config.TEMPORAL_ADDRESS).toBeUndefined();
});

test.each([
  ['API_PORT', 'eighty', 'API_PORT'],
  ['API_PORT', '70000', 'API_PORT'],
  ['DATABASE_URL', 'mysql://root@localhost/db', 'DATABASE_URL'],
  ['TEMPORAL_ADDRESS', 'localhost', 'TEMPORAL_ADDRESS'],
  ['TEMPORAL_TLS', 'maybe', 'TEMPORAL_TLS'],
])('%s=%s is rejected with an error naming the variable', (name, value, named) => {
  let caught: unknown;
  try {
    loadConfig({ [name]: value });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).issues.map((issue) => issue.variable)).toEqual([named]);
  expect((caught as Error).message).toContain(`${named}:`);
});

test('valid external endpoints are accepted', () => {
  const config = loadConfig({
    NODE_ENV: 'development',
    DATABASE_URL: 'postgres://app:secret@db.internal:5432/orders',
    TEMPORAL_ADDRESS: 'temporal.internal:7233',
    TEMPORAL_TLS: 'true',
    API_PORT: '8080',
  });
  expect(config.DATABASE_URL).toBe('postgres://app:secret@db.internal:5432/orders');
  expect(config.TEMPORAL_ADDRESS).toBe('temporal.internal:7233');
  expect(config.TEMPORAL_TLS).toBe(true);
  expect(config.API_PORT).toBe(8080);
});

test('an empty variable counts as unset', () => {
  expect(loadConfig({ DATABASE_URL: '', TEMPORAL_ADDRESS: '' }).DATABASE_URL).toBeUndefined();
});

test('durations are parsed to milliseconds', () => {
  expect(parseDuration('30m')).toBe(1_800_000);
  expect(parseDuration('10d')).toBe(864_000_000);
  expect(parseDuration('15s')).toBe(15_000);
  expect(parseDuration('250ms')).toBe(250);
  expect(() => parseDuration('10 minutes')).toThrow('not a duration');
});

test('.env.example lists exactly the variables the config reads', () => {
  const example = readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
  const listed = example
    .split('\n')
    .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
    .map((line) => line.split('=')[0])
    .sort();
  expect(listed).toEqual(Object.keys(configSchema.shape).sort());
  // and the example file itself is a valid configuration
  const values = Object.fromEntries(example.split('\n').filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line)).map((line) => line.split('=')));
  expect(() => loadConfig(values)).not.toThrow();
});
