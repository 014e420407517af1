import { CancellationScope, log } from '@temporalio/workflow';

/**
 * The compensations of the steps done so far, undone in reverse order when a later step fails or the
 * order is cancelled. Each compensation is registered *before* its forward step runs:
 *
 *   saga.onUndo('stock', 'release stock', () => releaseStock({ idempotencyKey: key('reserve-stock') }));
 *   await reserveStock({ idempotencyKey: key('reserve-stock'), ... });
 *
 * A later step that changes what undoing means for the same thing (the locked coupon is now used)
 * registers under the same name and replaces the earlier undo in its place.
 *
 * so a step whose outcome is unknown (it failed or timed out after the effect was applied) is undone
 * too. That is safe because compensations share the forward step's key, tolerate running when the
 * forward step never happened, and leave a tombstone so a late forward call is refused.
 * Compensating activities are retried until they succeed (no attempt limit) and run in a
 * non-cancellable scope, so a cancelled workflow still cleans up.
 */
export class Saga {
  private readonly compensations: { thing: string; description: string; undo: () => Promise<unknown> }[] = [];

  onUndo(thing: string, description: string, undo: () => Promise<unknown>): void {
    const existing = this.compensations.find((step) => step.thing === thing);
    if (existing) Object.assign(existing, { description, undo });
    else this.compensations.push({ thing, description, undo });
  }

  /** Descriptions of the pending compensations, most recent first (for queries and tests). */
  pending(): string[] {
    return this.compensations.map((step) => step.description).reverse();
  }

  /** Runs every pending compensation, last first, once each. */
  async compensate(): Promise<string[]> {
    const undone: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      while (this.compensations.length > 0) {
        const step = this.compensations.pop()!;
        log.info('compensating', { step: step.description });
        await step.undo();
        undone.push(step.description);
      }
    });
    return undone;
  }

  /** Forgets the compensations: the steps are final (e.g. after shipment the reservation is consumed). */
  clear(): void {
    this.compensations.length = 0;
  }
}
