import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parse } from 'yaml';
import { customSearchAttributes } from '../workflows/search-attributes';

/**
 * Validates docker-compose.yml with the real `docker-compose config` (no Docker engine needed) and
 * checks the wiring the deployment depends on. CI installs docker-compose; without it this fails.
 */

const ROOT = path.resolve(__dirname, '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

interface PortMapping {
  published?: string | number;
  target?: string | number;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  ports?: (PortMapping | string)[];
  environment?: Record<string, string | number | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  container_name?: string;
}

function dockerComposeConfig(): string {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        '`docker-compose` is not on PATH: install it to validate docker-compose.yml (Debian: apt-get install -y docker-compose).',
      );
    }
    throw new Error(`\`docker-compose version\` failed: ${(error as Error).message}`);
  }
  // A clean environment for interpolation: only PATH/HOME, so a developer's LOG_LEVEL or passwords do not leak in.
  return execFileSync('docker-compose', ['-f', COMPOSE_FILE, 'config'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((line) => [line.split('=')[0], line.slice(line.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, String(value ?? '')]));
}

/** `host:container` pairs, whatever form (short string or long mapping) the compose version prints. */
function portsOf(service: Service): string[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'string') {
      const parts = port.split(':');
      return `${parts[parts.length - 2]}:${parts[parts.length - 1].split('/')[0]}`;
    }
    return `${port.published}:${port.target}`;
  });
}

function dependencies(service: Service): Record<string, string | undefined> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep?.condition]));
}

describe('docker-compose.yml', () => {
  let services: Record<string, Service>;

  beforeAll(() => {
    const config = parse(dockerComposeConfig()) as { services?: Record<string, Service> };
    services = config.services ?? {};
  });

  test('declares the whole stack', () => {
    for (const name of ['temporal-db', 'temporal', 'temporal-admin-tools', 'temporal-ui', 'app-db', 'migrate', 'worker', 'api']) {
      expect(services).toHaveProperty([name]);
    }
  });

  test('publishes the Temporal UI on 8233, the API on 3000 and Temporal on 7233', () => {
    expect(portsOf(services['temporal-ui'])).toContain('8233:8080');
    expect(portsOf(services.api)).toContain('3000:3000');
    expect(portsOf(services.temporal)).toContain('7233:7233');
  });

  test('points the worker, the API and migrations at the compose services', () => {
    for (const name of ['worker', 'api', 'migrate']) {
      const env = environmentOf(services[name]);
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.TEMPORAL_NAMESPACE).toBe('default');
      expect(env.TASK_QUEUE).toBe('orders');
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@app-db:5432\/order_engine$/);
    }
    expect(environmentOf(services.api)).toMatchObject({ API_HOST: '0.0.0.0', API_PORT: '3000' });
    expect(environmentOf(services['temporal-ui']).TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  test('builds the app services from the Dockerfile and runs the compiled entrypoints', () => {
    expect(services.migrate.command).toEqual(['node', 'dist/scripts/migrate.js']);
    expect(services.worker.command).toEqual(['node', 'dist/workers/main.js']);
    expect(services.api.command).toEqual(['node', 'dist/api/main.js']);
    for (const name of ['migrate', 'worker', 'api']) expect(services[name].build).toBeDefined();
  });

  test('starts the worker and the API only after migrations and search attribute registration', () => {
    for (const name of ['worker', 'api']) {
      expect(dependencies(services[name])).toMatchObject({
        migrate: 'service_completed_successfully',
        'temporal-admin-tools': 'service_completed_successfully',
        temporal: 'service_healthy',
      });
    }
    expect(dependencies(services.migrate)).toMatchObject({ 'app-db': 'service_healthy' });
  });

  test('keeps the worker scalable: no container name and no published ports', () => {
    expect(services.worker.container_name).toBeUndefined();
    expect(services.worker.ports ?? []).toHaveLength(0);
  });

  test('registers every custom search attribute the workflows use (workflows/search-attributes.ts)', () => {
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
    expect(customSearchAttributes.length).toBeGreaterThan(0);
    for (const key of customSearchAttributes) {
      // Registered as NAME:TYPE and checked by NAME afterwards.
      expect(script).toMatch(new RegExp(`\\b${key.name}:${cliType[key.type]}\\b`));
      expect(script).toMatch(new RegExp(`for name in [^;]*\\b${key.name}\\b`));
    }
  });
});
