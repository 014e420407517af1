import type { FaultCounts, WebhookProxyStats } from './faults';
import type { Violation, WorkflowProblem } from './invariants';

/** What a chaos run prints at the end (and writes as JSON): the counts, then every broken invariant. */
export interface RunReport {
  runId: string;
  seed: string;
  options: Record<string, unknown>;
  durationS: number;
  loadAverage: { atStart: number; atEnd: number };
  endStates: Record<string, Record<string, number>>;
  unexpected: { order_id: string; order_type: string; path: string; status: string; expected: string }[];
  driveErrors: { orderId: string; type: string; path: string; error: string; status?: string }[];
  failedBeforeOrder: { n: number; type: string; path: string; error: string }[];
  refused: Record<string, number>;
  faults: FaultCounts;
  worker: { kills: number; starts: number; crashes: number; medianStartupMs: number };
  api: { starts: number; crashes: { at: string; code: number | null; signal: string | null }[] };
  postgresRestarts: number;
  webhooks: WebhookProxyStats;
  http: { calls: number; retries: number; unavailable: number };
  internalErrors: Record<string, number>;
  waitingForActor: { workflowId: string }[];
  workflows: Record<string, number>;
  failedWorkflows: (WorkflowProblem & { orderType?: string; path?: string })[];
  needsAttention: { order_id: string; order_type: string; path: string | null; status: string; step: string | null; reason: string | null }[];
  /** Every order of the run: scenario, type, path, expected and final state (JSON only). */
  orders: Record<string, unknown>[];
  checked: string[];
  violations: Violation[];
  logDir: string;
}

export function printReport(report: RunReport): void {
  const out = (line = '') => console.log(line);
  const orders = Object.values(report.endStates).reduce((sum, states) => sum + Object.values(states).reduce((a, b) => a + b, 0), 0);
  out();
  out(`=== chaos run ${report.runId} (seed ${report.seed}), ${report.durationS}s, load average ${report.loadAverage.atStart.toFixed(1)} → ${report.loadAverage.atEnd.toFixed(1)} ===`);
  out(`orders: ${orders}`);
  for (const [type, states] of Object.entries(report.endStates)) {
    out(`  ${type.padEnd(11)} ${Object.entries(states).map(([state, count]) => `${state} ${count}`).join(', ')}`);
  }
  if (Object.keys(report.refused).length > 0) out(`refused before an order existed: ${fmt(report.refused)}`);
  out(`faults injected: ${report.faults.total} (${report.faults.before} before the effect, ${report.faults.after} after it)`);
  out(`worker: ${report.worker.kills} SIGKILLs, ${report.worker.starts} starts (median ${report.worker.medianStartupMs} ms to poll), ${report.worker.crashes} exits by itself`);
  out(`api: ${report.api.starts} starts, ${report.api.crashes.length} exits by itself${report.api.crashes.length ? ` (${report.api.crashes.map((crash) => `code ${crash.code}`).join(', ')})` : ''}`);
  out(`postgresql restarts: ${report.postgresRestarts}`);
  out(`webhooks: ${report.webhooks.received} received, ${report.webhooks.duplicated} duplicated, ${report.webhooks.reordered} overtaken, ${report.webhooks.forwardErrors} forward errors`);
  out(`http: ${report.http.calls} calls, ${report.http.retries} retried (${report.http.unavailable} answered 500 or 502-504)`);
  if (Object.keys(report.internalErrors).length > 0) out(`  API 500 answers by route (each retried): ${fmt(report.internalErrors)}`);
  if (report.waitingForActor.length > 0) {
    out(`  left waiting in PAID for the warehouse after their scenario broke off: ${report.waitingForActor.map((left) => left.workflowId).join(', ')}`);
  }
  out(`workflows: ${fmt(report.workflows)}`);

  if (report.unexpected.length > 0) {
    out();
    out(`orders that ended outside their path's expected states: ${report.unexpected.length}`);
    for (const row of report.unexpected.slice(0, 40)) out(`  ${row.order_type} ${row.path}: ${row.order_id} is ${row.status} (expected ${row.expected})`);
  }
  if (report.driveErrors.length + report.failedBeforeOrder.length > 0) {
    out();
    out(`scenario steps that did not get their answer: ${report.driveErrors.length + report.failedBeforeOrder.length}`);
    for (const error of report.driveErrors.slice(0, 40)) out(`  ${error.type} ${error.path}: ${error.orderId} (${error.status ?? '?'}) ${error.error}`);
    for (const error of report.failedBeforeOrder.slice(0, 20)) out(`  ${error.type} ${error.path} (#${error.n}): ${error.error}`);
  }
  if (report.needsAttention.length > 0) {
    out();
    out(`orders in NEEDS_ATTENTION (waiting for ops): ${report.needsAttention.length}`);
    for (const row of report.needsAttention.slice(0, 40)) out(`  ${row.order_type} ${row.path ?? '?'}: ${row.order_id} (${row.status}) step ${row.step}: ${row.reason}`);
  }
  out();
  out(`invariants checked: ${report.checked.length}; broken: ${report.violations.length}`);
  for (const violation of report.violations) {
    out(`BROKEN: ${violation.invariant} (${violation.rows.length} rows)`);
    for (const row of violation.rows.slice(0, 15)) out(`    ${JSON.stringify(row)}`);
  }
  if (report.failedWorkflows.length > 0) {
    out();
    out('failed workflows:');
    for (const problem of report.failedWorkflows) {
      out(`  ${problem.workflowId} (${problem.type}${problem.orderType ? `, ${problem.orderType} ${problem.path}` : ''}) ${problem.status}: ${problem.detail}`);
    }
  }
  out(report.violations.length === 0 ? 'RESULT: every invariant holds' : `RESULT: ${report.violations.length} invariants broken`);
  out(`logs: ${report.logDir}`);
}

function fmt(counts: Record<string, number>): string {
  return Object.entries(counts).map(([key, count]) => `${key} ${count}`).join(', ');
}
