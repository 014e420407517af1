import { Writable } from 'node:stream';
import { metricsRouter } from '../../api/metrics';
import { createLogger, type Logger } from '../../infra/logger';
import { registry } from '../../infra/metrics';

/** A JSON logger whose lines a test reads back. */
export function capturedLogger(level: 'info' | 'debug' = 'info'): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  /** The first line matching, once written (a request's line is written when its response has finished). */
  line: (match: (entry: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level, format: 'json', destination });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const line = async (match: (entry: Record<string, unknown>) => boolean) => {
    for (let waited = 0; waited < 5_000; waited += 20) {
      const found = lines().find(match);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no such log line in:\n${chunks.join('')}`);
  };
  return { logger, lines, line };
}

/** Parses Prometheus text into `name{labels}` → value (labels as written, sorted by prom-client). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)/.exec(line);
    if (match) values.set(match[1], Number(match[2]));
  }
  return values;
}

/** SDK metrics the rules and the dashboard use, named as the worker serves them (countersTotalSuffix, unitSuffix, seconds; see worker-process.test.ts). */
const SDK_METRICS = [
  'temporal_num_pollers',
  'temporal_workflow_task_execution_failed_total',
  'temporal_activity_execution_failed_total',
  'temporal_activity_schedule_to_start_latency_seconds_bucket',
  'temporal_workflow_task_schedule_to_start_latency_seconds_bucket',
];

/** The grammar ships as ESM with a CommonJS build; this file is CommonJS, so it is required. */
interface SyntaxNodeRef {
  name: string;
  from: number;
  to: number;
  type: { isError: boolean };
  node: { parent: { name: string } | null };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require('@prometheus-io/lezer-promql') as { parser: { parse(text: string): { iterate(spec: { enter(node: SyntaxNodeRef): void }): void } } };

/** Metric names that exist: ours (with histogram series) and the SDK's that rules and dashboards use. */
export async function knownMetricNames(): Promise<Set<string>> {
  // The API's scrape-time gauges exist once its router is made; with no connections they stay empty.
  metricsRouter({ pool: undefined, temporal: undefined, taskQueue: 'none' } as unknown as Parameters<typeof metricsRouter>[0]);
  const names = new Set(SDK_METRICS);
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

/** Syntax errors and the metric names an expression selects, from the Prometheus project's own grammar. */
export function analysePromQL(expr: string): { errors: string[]; metrics: string[] } {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const metrics: string[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${expr.slice(node.from, node.to + 10)}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(expr.slice(node.from, node.to));
    },
  });
  return { errors, metrics };
}

