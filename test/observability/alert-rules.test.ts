import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { analysePromQL as analyse, knownMetricNames } from './support';

/**
 * deploy/prometheus/alerts.yml: well-formed rules whose expressions parse as PromQL and name only
 * metrics that exist (ours from the registry, the SDK's as its Prometheus endpoint names them, see
 * test/observability/worker-process.test.ts); checked by promtool as well when it is installed
 * (Debian: `apt-get install prometheus`), including one rule's behaviour on made-up series.
 */
const RULES_FILE = path.resolve(__dirname, '../../deploy/prometheus/alerts.yml');

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const document = parseYaml(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const rules = document.groups.flatMap((group) => group.rules);

test('every rule is complete: unique alert name, expression, severity and summary', () => {
  expect(rules.length).toBeGreaterThanOrEqual(10);
  const names = rules.map((rule) => rule.alert);
  expect(new Set(names).size).toBe(names.length);
  for (const rule of rules) {
    expect(rule).toMatchObject({ alert: expect.stringMatching(/^[A-Z][A-Za-z]+$/), expr: expect.any(String) });
    expect(['page', 'ticket']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary).toEqual(expect.any(String));
    if (rule.for) expect(rule.for).toMatch(/^\d+[smh]$/);
  }
  // The list: stuck / NEEDS_ATTENTION orders, workflow task failures, activity retries,
  // schedule-to-start latency, webhook failures, reconciliation differences.
  expect(names).toEqual(
    expect.arrayContaining(['OrdersNeedAttention', 'OrdersStuckNoWorker', 'WorkflowTaskFailures', 'ActivityRetriesClimbing', 'ActivityScheduleToStartSlow', 'WebhookSignatureFailures', 'ReconciliationDifferences']),
  );
});

test('every expression parses as PromQL and selects only metrics that exist', async () => {
  const known = await knownMetricNames();
  for (const rule of rules) {
    const { errors, metrics } = analyse(rule.expr);
    expect({ alert: rule.alert, errors }).toEqual({ alert: rule.alert, errors: [] });
    expect(metrics.length).toBeGreaterThan(0);
    for (const metric of metrics) expect({ alert: rule.alert, metric, known: known.has(metric) }).toEqual({ alert: rule.alert, metric, known: true });
  }
  // The parse check itself catches a broken expression.
  expect(analyse('sum(rate(order_engine_orders_placed_total[5m])').errors).not.toEqual([]);
});

const promtool = spawnSync('promtool', ['--version']).status === 0 ? 'promtool' : undefined;

test('promtool accepts the rules and OrdersNeedAttention fires on a parked order (when promtool is installed)', () => {
  if (!promtool) {
    // Without promtool the two tests above are the check; nothing more to run here.
    expect(spawnSync('promtool', ['--version']).status).not.toBe(0);
    return;
  }
  expect(execFileSync(promtool, ['check', 'rules', RULES_FILE], { encoding: 'utf8' })).toMatch(/SUCCESS: \d+ rules found/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alerts-'));
  const testFile = path.join(dir, 'alerts.test.yml');
  writeFileSync(
    testFile,
    JSON.stringify({
      rule_files: [RULES_FILE],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [{ series: 'order_engine_orders_needs_attention{phase="NEEDS_ATTENTION",instance="api:3000"}', values: '0 0 2 2 2 2 2 2 2 2' }],
          alert_rule_test: [
            { eval_time: '4m', alertname: 'OrdersNeedAttention', exp_alerts: [] },
            {
              eval_time: '9m',
              alertname: 'OrdersNeedAttention',
              exp_alerts: [
                {
                  exp_labels: { severity: 'page' },
                  exp_annotations: {
                    summary: '2 order(s) in NEEDS_ATTENTION',
                    description: 'Find them in the Temporal UI with OrderPhase = "NEEDS_ATTENTION"; each one names the step that failed.',
                  },
                },
              ],
            },
          ],
        },
      ],
    }),
  );
  expect(execFileSync(promtool, ['test', 'rules', testFile], { encoding: 'utf8' })).toMatch(/SUCCESS/);
});
