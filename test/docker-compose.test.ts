import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parse } from 'yaml';
import { customSearchAttributes } from '../workflows/search-attributes';
import { loadCompose, schemaErrors, type ComposeFile, type ComposeService } from './docker-compose/compose-file';
import { deploymentProblems, publishedPorts, REQUIRED_SECRETS, secretProblems } from './docker-compose/deployment-policy';

/**
 * docker-compose.yml, checked without the compose binary: Compose's JSON schema (compose-spec), the
 * project's deployment rules (test/docker-compose/deployment-policy.ts) and the wiring the engine
 * depends on. Each rule is shown to catch its mistake with an override fixture. Where `docker-compose`
 * is installed, its own `config` must accept the file too.
 */

const ROOT = path.resolve(__dirname, '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const fixture = (name: string) => path.join(__dirname, 'docker-compose', 'fixtures', name);
/** The workers' services, one per task queue (workers/orders.ts, finance.ts, inventory.ts, member.ts). */
const WORKERS = ['worker', 'worker-finance', 'worker-inventory', 'worker-member'];

/** What an operator provides (compose refuses to start without these), and nothing from this shell. */
const OPERATOR_ENV: Record<string, string> = Object.fromEntries(REQUIRED_SECRETS.map((name) => [name, `${name.toLowerCase()}-from-operator-0123456789`]));
OPERATOR_ENV.API_KEYS = 'wh-key=warehouse:wh_1,support-key=support:agent_1,admin-key=admin:ops_1';
OPERATOR_ENV.PAYMENT_PROVIDER = 'alipay';

const load = (...overrides: string[]) => loadCompose([COMPOSE_FILE, ...overrides.map(fixture)], OPERATOR_ENV);

function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((line) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value ?? '')]));
}

function dependencies(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep?.condition]));
}

function composeBinary(): string | undefined {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return 'docker-compose';
  } catch {
    return undefined;
  }
}

describe('docker-compose.yml', () => {
  let config: ComposeFile;
  let services: ComposeFile['services'];
  beforeAll(() => {
    config = load();
    services = config.services;
  });

  test('is valid Compose (the compose-spec JSON schema; `docker-compose config` too where installed)', () => {
    expect(schemaErrors(config)).toEqual([]);
    // and the schema does refuse what Compose would: a misspelt key.
    const misspelt = { ...config, services: { ...services, api: { ...services.api, helthcheck: services.api.healthcheck } } };
    expect(schemaErrors(misspelt)).toEqual([expect.stringMatching(/^\/services\/api: must NOT have additional properties.*helthcheck/)]);
    const binary = composeBinary();
    if (binary) {
      const printed = execFileSync(binary, ['-f', COMPOSE_FILE, 'config'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...OPERATOR_ENV },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(Object.keys((parse(printed) as ComposeFile).services).sort()).toEqual(Object.keys(services).sort());
    }
  });

  test('follows the deployment rules: pinned images, healthchecks, no published Temporal ports, required secrets', () => {
    expect(deploymentProblems(config)).toEqual([]);
    expect(secretProblems([COMPOSE_FILE])).toEqual([]);
  });

  test('the rules catch a published Temporal port, an unpinned image and a secret with a default', () => {
    expect(deploymentProblems(load('published-temporal-port.yml'))).toEqual([expect.stringMatching(/^temporal: publishes Temporal port 7233/)]);
    expect(deploymentProblems(load('unpinned-image.yml'))).toEqual(['app-db: image "postgres:latest" is not pinned to an exact version or digest']);
    expect(secretProblems([COMPOSE_FILE, fixture('secret-with-default.yml')])).toEqual([expect.stringMatching(/^JWT_SECRET: \$\{JWT_SECRET:-compose-demo/)]);
    // The fixtures are valid Compose: only the project's rules refuse them.
    expect(schemaErrors(load('published-temporal-port.yml'))).toEqual([]);
    expect(schemaErrors(load('unpinned-image.yml'))).toEqual([]);
  });

  test('refuses to start without each secret or a payment provider, as compose does', () => {
    for (const name of [...REQUIRED_SECRETS, 'PAYMENT_PROVIDER']) {
      const { [name]: _missing, ...rest } = OPERATOR_ENV;
      expect(() => loadCompose([COMPOSE_FILE], rest)).toThrow(new RegExp(`required variable ${name} is missing`));
    }
  });

  test('declares the whole stack, with Temporal from temporalio/server and its schema set up by admin-tools', () => {
    for (const name of ['temporal-db', 'temporal-schema', 'temporal', 'temporal-admin-tools', 'temporal-ui', 'app-db', 'migrate', 'worker', 'api']) {
      expect(services).toHaveProperty([name]);
    }
    expect(services.temporal.image).toMatch(/^temporalio\/server:/);
    expect(services['temporal-schema'].image).toMatch(/^temporalio\/admin-tools:/);
    expect(String(services['temporal-schema'].command)).toMatch(/temporal-sql-tool[\s\S]*update-schema/);
    expect(dependencies(services.temporal)).toMatchObject({ 'temporal-schema': 'service_completed_successfully' });
  });

  test('publishes the API on 3000, the Temporal UI and monitoring on loopback only; nothing else', () => {
    const published = Object.fromEntries(Object.entries(services).map(([name, service]) => [name, publishedPorts(service)]));
    expect(published.api).toEqual([{ published: '3000', target: 3000 }]);
    expect(published['temporal-ui']).toEqual([{ hostIp: '127.0.0.1', published: '8233', target: 8080 }]);
    expect(published.prometheus).toEqual([{ hostIp: '127.0.0.1', published: '9090', target: 9090 }]);
    expect(published.grafana).toEqual([{ hostIp: '127.0.0.1', published: '3001', target: 3000 }]);
    const others = Object.keys(services).filter((name) => !['api', 'temporal-ui', 'prometheus', 'grafana'].includes(name));
    for (const name of others) expect(published[name]).toEqual([]);
  });

  test('points the workers, the API and migrations at the compose services', () => {
    for (const name of [...WORKERS, 'api', 'migrate']) {
      const env = environmentOf(services[name]);
      expect(env).toMatchObject({ NODE_ENV: 'production', TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default', TASK_QUEUE: 'orders' });
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@app-db:5432\/order_engine$/);
      expect(env).toMatchObject({ JWT_SECRET: OPERATOR_ENV.JWT_SECRET, PAYMENT_PROVIDER: 'alipay' });
    }
    expect(environmentOf(services.api)).toMatchObject({ API_HOST: '0.0.0.0', API_PORT: '3000' });
    expect(environmentOf(services['temporal-ui']).TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  test('builds the app services from the Dockerfile and runs the compiled entrypoints with node', () => {
    expect(services.migrate.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(services.worker.command).toEqual(['node', 'dist/workers/orders.js']);
    for (const queue of ['finance', 'inventory', 'member']) expect(services[`worker-${queue}`].command).toEqual(['node', `dist/workers/${queue}.js`]);
    expect(services.api.command).toEqual(['node', 'dist/api/main.js']);
    for (const name of WORKERS) expect(services[name].healthcheck?.test).toEqual(['CMD', 'node', 'dist/scripts/worker-health.js']);
    for (const name of ['migrate', ...WORKERS, 'api']) expect(services[name].build).toBeDefined();
  });

  test('starts the workers and the API only after migrations and search attribute registration', () => {
    for (const name of [...WORKERS, 'api']) {
      expect(dependencies(services[name])).toMatchObject({
        migrate: 'service_completed_successfully',
        'temporal-admin-tools': 'service_completed_successfully',
        temporal: 'service_healthy',
      });
    }
    expect(dependencies(services.migrate)).toMatchObject({ 'app-db': 'service_healthy' });
  });

  test('keeps the worker of every task queue scalable: no container name and no published ports', () => {
    for (const name of WORKERS) {
      expect(services[name].container_name).toBeUndefined();
      expect(services[name].ports ?? []).toHaveLength(0);
    }
  });

  test('registers the namespace and every custom search attribute the workflows use (workflows/search-attributes.ts)', () => {
    const command = services['temporal-admin-tools'].command;
    const script = Array.isArray(command) ? command.join(' ') : String(command);
    const cliType: Record<string, string> = {
      TEXT: 'Text',
      KEYWORD: 'Keyword',
      INT: 'Int',
      DOUBLE: 'Double',
      BOOL: 'Bool',
      DATETIME: 'Datetime',
      KEYWORD_LIST: 'KeywordList',
    };
    expect(script).toMatch(/temporal operator namespace create/);
    expect(customSearchAttributes.length).toBeGreaterThan(0);
    for (const key of customSearchAttributes) {
      // Registered as NAME:TYPE and checked by NAME afterwards.
      expect(script).toMatch(new RegExp(`\\b${key.name}:${cliType[key.type]}\\b`));
      expect(script).toMatch(new RegExp(`for name in [^;]*\\b${key.name}\\b`));
    }
  });
});
