import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { decide, FAULT_TYPE, faultInjectionFromEnv, faultSettingsFromEnv } from '../../workers/interceptors/fault-injection';

/** The chaos run's activity fault injector: off unless asked, never in production, faults on both sides of the effect. */
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'fault-injection-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('off without CHAOS_FAULT_RATE or at rate 0; refused under NODE_ENV=production; bad rates named', () => {
  expect(faultInjectionFromEnv({})).toBeUndefined();
  expect(faultInjectionFromEnv({ CHAOS_FAULT_RATE: '0' })).toBeUndefined();
  expect(() => faultSettingsFromEnv({ CHAOS_FAULT_RATE: '0.1', NODE_ENV: 'production' })).toThrow(/refuses to run in production/);
  expect(() => faultSettingsFromEnv({ CHAOS_FAULT_RATE: '1.5' })).toThrow(/CHAOS_FAULT_RATE/);
  expect(() => faultSettingsFromEnv({ CHAOS_FAULT_RATE: 'often' })).toThrow(/CHAOS_FAULT_RATE/);
  expect(faultSettingsFromEnv({ CHAOS_FAULT_RATE: '0.1', CHAOS_FAULT_SEED: 's1', NODE_ENV: 'test' })).toEqual({ rate: 0.1, seed: 's1', logFile: undefined });
});

test('the share of faulted attempts follows the rate, half before and half after, reproducibly by seed', () => {
  const draws = Array.from({ length: 20_000 }, (_, i) => decide('seed-a', `order-${i}/1/1`));
  const faulted = draws.filter((draw) => draw.draw < 0.1);
  expect(faulted.length / draws.length).toBeGreaterThan(0.09);
  expect(faulted.length / draws.length).toBeLessThan(0.11);
  const after = faulted.filter((draw) => draw.after).length / faulted.length;
  expect(after).toBeGreaterThan(0.45);
  expect(after).toBeLessThan(0.55);
  expect(decide('seed-a', 'order-7/1/1')).toEqual(decide('seed-a', 'order-7/1/1'));
  expect(decide('seed-b', 'order-7/1/1')).not.toEqual(decide('seed-a', 'order-7/1/1'));
});

test('a fault before the effect leaves it undone; after it, the effect is applied and the result lost; both retryable and logged', async () => {
  const logFile = path.join(scratch, 'faults.jsonl');
  const factory = faultInjectionFromEnv({ CHAOS_FAULT_RATE: '1', CHAOS_FAULT_SEED: 'unit', CHAOS_FAULT_LOG: logFile, NODE_ENV: 'test' })!;
  // Find one attempt the seed faults before and one it faults after.
  const attemptFor = (after: boolean) => Array.from({ length: 50 }, (_, i) => i + 1).find((attempt) => decide('unit', `wf-1/act-1/${attempt}`).after === after)!;
  const effects: string[] = [];
  for (const after of [false, true]) {
    const attempt = attemptFor(after);
    const env = new MockActivityEnvironment({ attempt, activityId: 'act-1', activityType: 'reserveStock', workflowExecution: { workflowId: 'wf-1', runId: 'r' } }, { interceptors: [factory] });
    const failure = await env.run(async () => {
      effects.push(`attempt ${attempt}`);
      return 'reserved';
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe(FAULT_TYPE);
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
  }
  expect(effects).toEqual([`attempt ${attemptFor(true)}`]);
  const logged = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  expect(logged.map((fault) => [fault.phase, fault.activityType, fault.workflowId])).toEqual([
    ['before', 'reserveStock', 'wf-1'],
    ['after', 'reserveStock', 'wf-1'],
  ]);
});
