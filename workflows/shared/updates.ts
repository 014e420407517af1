import type { UpdateDefinition } from '@temporalio/common';
import { setHandler } from '@temporalio/workflow';
import { localStepsRunning } from './activities';
import { waitUntil } from './wait';

type UpdateHandler<Result, Args extends unknown[]> = (...args: Args) => Result | Promise<Result>;
interface UpdateOptions<Args extends unknown[]> {
  validator?: (...args: Args) => void;
}

const noLocalSteps = () => !localStepsRunning();

/**
 * An update that acts only while no local activity of the run is running, and answers only then.
 *
 * Why: the SDK (1.24) replays an update wrongly when the update arrives while a local activity
 * started in an earlier workflow task is still running. A local activity retried past 80% of the
 * workflow task timeout has the SDK heartbeat the task, and an update can arrive in the next one.
 * On replay that update and the local activity's result are applied in one activation. The update's
 * answer, or a step it started, then lands after what the local activity's result led to (a timer,
 * say). That is a nondeterminism error, and the run is stuck on every later attempt. The chaos run of
 * session 12 left a group-buy order so; `test/replay/update-during-local-retries.test.ts`
 * reproduces it on the SDK, `test/saga-cases/updates-during-local-steps.test.ts` holds the orders.
 *
 * When no local activity runs, nothing waits: the handler runs as it always did, in the same
 * activation. When one runs, the handler waits for it, then asks its validator again (the order may
 * have moved on; a refusal then is the same 409) and acts.
 */
export function setUpdateHandler<Result, Args extends unknown[]>(
  answersAfterLocalSteps: boolean,
  definition: UpdateDefinition<Result, Args>,
  handler: UpdateHandler<Result, Args>,
  options: UpdateOptions<Args> = {},
): void {
  if (!answersAfterLocalSteps) {
    setHandler(definition, handler, options);
    return;
  }
  const { validator } = options;
  const held = async (...args: Args): Promise<Result> => {
    if (localStepsRunning()) {
      await waitUntil(noLocalSteps);
      validator?.(...args);
    }
    const result = await handler(...args);
    if (localStepsRunning()) await waitUntil(noLocalSteps);
    return result;
  };
  setHandler(definition, held, options);
}
