import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';

/**
 * Chaos testing only (bench/chaos): fails a share of activity attempts with a retryable error,
 * either BEFORE the activity runs (nothing happened) or AFTER it returned (its effect is applied,
 * its result is lost, as when a worker dies just before reporting). Every activity must survive
 * both because it is idempotent by its business key; the chaos run checks that it did.
 *
 * Enabled only by CHAOS_FAULT_RATE (0 < rate ≤ 1) and never under NODE_ENV=production.
 * CHAOS_FAULT_SEED makes the choice reproducible: it is a hash of the seed, the workflow, the
 * activity and the attempt, so a retry of the same activity is decided afresh.
 * CHAOS_FAULT_LOG names a file that gets one JSON line per injected fault (written synchronously,
 * so a SIGKILLed worker loses nothing it had already injected).
 */
export const FAULT_TYPE = 'ChaosInjectedFault';

export interface FaultSettings {
  rate: number;
  seed: string;
  logFile?: string;
}

export interface InjectedFault {
  at: string;
  phase: 'before' | 'after';
  activityType: string;
  workflowId: string;
  activityId: string;
  attempt: number;
}

/** The settings from the environment, or undefined when fault injection is off. Throws on misuse. */
export function faultSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): FaultSettings | undefined {
  const text = env.CHAOS_FAULT_RATE?.trim();
  if (!text) return undefined;
  if ((env.NODE_ENV ?? 'development') === 'production') {
    throw new Error('CHAOS_FAULT_RATE is set but NODE_ENV=production: fault injection is a test tool and refuses to run in production');
  }
  const rate = Number(text);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error(`CHAOS_FAULT_RATE must be a number from 0 to 1, got ${JSON.stringify(text)}`);
  if (rate === 0) return undefined;
  return { rate, seed: env.CHAOS_FAULT_SEED?.trim() || 'chaos', logFile: env.CHAOS_FAULT_LOG?.trim() || undefined };
}

/** A number in [0, 1) and a coin, both fixed by the seed and the attempt's identity. */
export function decide(seed: string, identity: string): { draw: number; after: boolean } {
  const digest = createHash('sha256').update(`${seed}\u0000${identity}`).digest();
  return { draw: digest.readUInt32BE(0) / 2 ** 32, after: (digest[4] & 1) === 1 };
}

class FaultInjector implements ActivityInboundCallsInterceptor {
  constructor(private readonly settings: FaultSettings) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = Context.current().info;
    const workflowId = info.workflowExecution?.workflowId ?? '';
    const { draw, after } = decide(this.settings.seed, `${workflowId}/${info.activityId}/${info.attempt}`);
    if (draw >= this.settings.rate) return next(input);
    const fault: InjectedFault = {
      at: new Date().toISOString(),
      phase: after ? 'after' : 'before',
      activityType: info.activityType,
      workflowId,
      activityId: info.activityId,
      attempt: info.attempt,
    };
    if (!after) this.fail(fault);
    const result = await next(input);
    return this.fail(fault, result);
  }

  private fail(fault: InjectedFault, _lostResult?: unknown): never {
    if (this.settings.logFile) appendFileSync(this.settings.logFile, JSON.stringify(fault) + '\n');
    throw ApplicationFailure.retryable(`chaos: injected fault ${fault.phase} ${fault.activityType} (attempt ${fault.attempt})`, FAULT_TYPE);
  }
}

/** The worker's activity interceptor factory when CHAOS_FAULT_RATE is set; undefined otherwise. */
export function faultInjectionFromEnv(env: NodeJS.ProcessEnv = process.env): ActivityInterceptorsFactory | undefined {
  const settings = faultSettingsFromEnv(env);
  if (!settings) return undefined;
  const inbound = new FaultInjector(settings);
  return () => ({ inbound });
}
