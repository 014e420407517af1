import { condition } from '@temporalio/workflow';
import { mustComplete } from '../shared/activities';
import { isBusinessRefusal, refusalMessage } from '../shared/refusals';

export type OpsSignalName = 'approveRefund' | 'rejectRefund' | 'returnReceived';

export interface OpsSignal {
  name: OpsSignalName;
  /** What the sender typed, with the staff JWT that proves who they are (`actorToken`). */
  payload: { actorToken?: string } & object;
}

export interface VerifiedActor {
  actor: string;
  role: string;
  subject: string;
}

const rolesFor: Record<OpsSignalName, ('support' | 'admin' | 'warehouse')[]> = {
  approveRefund: ['support', 'admin'],
  rejectRefund: ['support', 'admin'],
  returnReceived: ['warehouse', 'admin'],
};

/**
 * Signals sent from the Temporal UI or CLI by ops, support or the warehouse. A signal handler cannot
 * run activities, so the handler only queues the signal; the request's process verifies the sender's
 * token (verifyActorToken) while it waits, applies the signal as the verified actor, or refuses it
 * (noted on the timeline, never applied). A name typed into the signal is never trusted.
 */
export class OpsSignals {
  private readonly queue: OpsSignal[] = [];

  constructor(
    private readonly apply: (signal: OpsSignal, actor: VerifiedActor) => void,
    private readonly refuse: (signal: OpsSignal, why: string) => void,
  ) {}

  push(signal: OpsSignal): void {
    this.queue.push(signal);
  }

  /** Waits until `done()` or the timeout (ms; none: no limit), verifying queued signals on the way. True when done. */
  async waitUntil(done: () => boolean, timeoutMs?: number, summary?: string): Promise<boolean> {
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      if (done()) return true;
      if (this.queue.length > 0) {
        await this.verifyNext();
        continue;
      }
      const wake = () => done() || this.queue.length > 0;
      if (deadline === undefined) {
        await condition(wake);
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || !(await condition(wake, remaining, { summary: summary ?? 'wait' }))) return done();
    }
  }

  private async verifyNext(): Promise<void> {
    const signal = this.queue.shift()!;
    let actor: VerifiedActor;
    try {
      actor = await mustComplete.verifyActorToken.executeWithOptions({ summary: `verify the sender of ${signal.name}` }, [
        { token: signal.payload.actorToken, roles: rolesFor[signal.name] },
      ]);
    } catch (error) {
      if (!isBusinessRefusal(error)) throw error;
      this.refuse(signal, refusalMessage(error));
      return;
    }
    this.apply(signal, actor);
  }
}

/** The payload as it may be shown on a timeline: without the token. */
export function withoutToken(payload: object): Record<string, unknown> {
  const { actorToken: _token, ...rest } = payload as { actorToken?: string };
  return rest;
}
