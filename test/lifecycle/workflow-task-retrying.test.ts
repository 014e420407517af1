import express from 'express';
import request from 'supertest';
import { ServiceError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { errorHandler } from '../../api/problem';
import { retryTransientRefusals } from '../../api/temporal';
import { isWorkflowTaskRetrying } from '../../infra/temporal-retry';
import { rootLogger } from '../../infra/logger';

/**
 * While a workflow's task is being retried (its worker was killed mid-task), the server refuses new
 * updates with FAILED_PRECONDITION. A chaos run under load met it 496 times as 500 "internal error";
 * it is transient and nothing was admitted: asked again for a moment, then 503 with Retry-After.
 * The error is built as the client builds it (ServiceError over the gRPC status error).
 */
const MESSAGE = 'Unable to perform workflow execution update due to Workflow Task in failed state.';
const taskRetrying = () =>
  new ServiceError('Workflow Update failed', { cause: Object.assign(new Error(`9 FAILED_PRECONDITION: ${MESSAGE}`), { code: 9, details: MESSAGE }) });

test('the refusal is recognised along the cause chain; other preconditions and plain errors are not', () => {
  expect(isWorkflowTaskRetrying(taskRetrying())).toBe(true);
  expect(isWorkflowTaskRetrying(new ServiceError('Workflow Update failed', { cause: Object.assign(new Error('9 FAILED_PRECONDITION: namespace is not active'), { code: 9 }) }))).toBe(false);
  expect(isWorkflowTaskRetrying(new Error('boom'))).toBe(false);
  expect(isWorkflowTaskRetrying(undefined)).toBe(false);
});

test('an update refused that way is asked again until the task recovers', async () => {
  let calls = 0;
  const answer = await retryTransientRefusals({ phase: 'PAID' }, async () => {
    calls += 1;
    if (calls < 3) throw taskRetrying();
    return 'accepted';
  });
  expect(answer).toBe('accepted');
  expect(calls).toBe(3);
});

test('still refused when the wait is over: the caller gets 503 problem+json with Retry-After, not 500', async () => {
  let calls = 0;
  const app = express();
  app.post('/orders/:id/cancel', async () => {
    await retryTransientRefusals({ phase: 'PAID' }, async () => {
      calls += 1;
      throw taskRetrying();
    }, 300);
  });
  app.use(errorHandler(rootLogger()));
  const response = await request(app).post('/orders/ord_1/cancel');
  expect(response.status).toBe(503);
  expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(response.headers['retry-after']).toBe('2');
  expect(response.body).toMatchObject({ type: 'https://order-engine.dev/problems/service-unavailable', status: 503 });
  expect(calls).toBeGreaterThan(1);
});

test('a payment still being confirmed after the wait (the caller saw it paid): 503 with Retry-After and the reason, not a final 409', async () => {
  const paymentInProgress = () =>
    new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ type: 'PAYMENT_IN_PROGRESS', message: 'the payment is being confirmed' }));
  let calls = 0;
  const app = express();
  app.post('/warehouse/orders/:id/ship', async () => {
    await retryTransientRefusals({ phase: 'PAID' }, async () => {
      calls += 1;
      throw paymentInProgress();
    }, 300);
  });
  app.use(errorHandler(rootLogger()));
  const response = await request(app).post('/warehouse/orders/ord_1/ship');
  expect(response.status).toBe(503);
  expect(response.headers['retry-after']).toBe('5');
  expect(response.body).toMatchObject({ status: 503, reason: 'PAYMENT_IN_PROGRESS' });
  expect(response.body.detail).toContain('the payment is being confirmed');
  expect(calls).toBeGreaterThan(1);
  // A caller who saw the payment still under way hears the refusal at once, asked once.
  calls = 0;
  await expect(
    retryTransientRefusals({ phase: 'PAYMENT_RECEIVED' }, async () => {
      calls += 1;
      throw paymentInProgress();
    }, 300),
  ).rejects.toThrow(WorkflowUpdateFailedError);
  expect(calls).toBe(1);
});

test('a bug stays a 500', async () => {
  const app = express();
  app.get('/boom', () => {
    throw new TypeError('a bug');
  });
  app.use(errorHandler(rootLogger()));
  expect((await request(app).get('/boom')).status).toBe(500);
});
