import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { configSchema } from '../../infra/config';
import { analysePromQL, knownMetricNames } from './support';

/**
 * The monitoring of docker-compose.yml: Prometheus scrapes what the processes serve (ports, token),
 * loads the alert rules it mounts, and the Grafana dashboard asks only for metrics that exist.
 */
const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface ScrapeConfig {
  job_name: string;
  authorization?: { type: string; credentials: string };
  dns_sd_configs: { names: string[]; port: number }[];
}
// merge: compose resolves YAML merge keys (the worker services share one definition).
const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
  'x-app-env': Record<string, string>;
  services: Record<string, { image?: string; volumes?: string[]; environment?: Record<string, string> }>;
};
const prometheus = parseYaml(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: ScrapeConfig[] };
const defaults = configSchema.parse({ NODE_ENV: 'test' });

function job(name: string): ScrapeConfig {
  const found = prometheus.scrape_configs.find((config) => config.job_name === name);
  if (!found) throw new Error(`no scrape job ${name}`);
  return found;
}

/** The compose services of the workers, one per task queue. */
const WORKER_SERVICES = ['worker', 'worker-finance', 'worker-inventory', 'worker-member'];

test('Prometheus scrapes the API with its metrics token and each worker on its SDK and health ports', () => {
  const composeToken = /^\$\{METRICS_TOKEN:-(.+)\}$/.exec(compose['x-app-env'].METRICS_TOKEN)?.[1];
  expect(job('order-engine-api')).toMatchObject({ authorization: { type: 'Bearer', credentials: composeToken }, dns_sd_configs: [{ names: ['api'], port: 3000 }] });
  expect(job('order-engine-worker-sdk').dns_sd_configs).toEqual([expect.objectContaining({ names: WORKER_SERVICES, port: defaults.WORKER_METRICS_PORT })]);
  expect(job('order-engine-worker').dns_sd_configs).toEqual([expect.objectContaining({ names: WORKER_SERVICES, port: defaults.WORKER_HEALTH_PORT })]);
  // Inside the compose network every worker must listen beyond loopback.
  for (const name of WORKER_SERVICES) expect(compose.services[name].environment?.WORKER_METRICS_HOST).toBe('0.0.0.0');
});

test('the Prometheus and Grafana services are pinned and mount the rules, config and dashboard', () => {
  for (const name of ['prometheus', 'grafana']) expect(compose.services[name].image).toMatch(/:v?\d+\.\d+\.\d+$/);
  const mounts = compose.services.prometheus.volumes ?? [];
  expect(mounts).toContain('./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
  expect(mounts).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
  expect(compose.services.grafana.volumes).toEqual(expect.arrayContaining(['./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro']));
});

test('every dashboard query parses and asks for metrics that exist', async () => {
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/order-engine.json')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const known = await knownMetricNames();
  expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
  for (const panel of dashboard.panels) {
    for (const { expr } of panel.targets) {
      const { errors, metrics } = analysePromQL(expr);
      expect({ panel: panel.title, errors }).toEqual({ panel: panel.title, errors: [] });
      for (const metric of metrics) expect({ panel: panel.title, metric, known: known.has(metric) }).toEqual({ panel: panel.title, metric, known: true });
    }
  }
});

test('promtool accepts the Prometheus configuration (when promtool is installed)', () => {
  if (spawnSync('promtool', ['--version']).status !== 0) {
    // Without promtool the structural checks above are the check.
    expect(prometheus.scrape_configs.length).toBe(3);
    return;
  }
  // The rule file is mounted at /etc/prometheus in the container; here it is beside the config.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prometheus-'));
  writeFileSync(path.join(dir, 'prometheus.yml'), stringify({ ...prometheus, rule_files: [path.join(ROOT, 'deploy/prometheus/alerts.yml')] }));
  expect(execFileSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' })).toMatch(/SUCCESS/);
});
