import { CancellationScope, log } from '@temporalio/workflow';

/**
 * A forward step beside its undo (the shape of Medusa's createStep(invoke, compensate)). `run` returns
 * what it did; `undo` gets the step's input and that output (undefined when the outcome is unknown:
 * the step failed or timed out, maybe after its effect) and computes what to give back from it and
 * from the order's live state (the refund book), never from a figure frozen when the step ran.
 * Undos are idempotent by the forward step's key and tolerate a forward step that never happened.
 */
export interface Step<C, In, Out> {
  /** What the step holds; a later step holding the same thing replaces the undo (locked → used coupon). */
  thing: string;
  summary: string;
  undoSummary: string;
  run(context: C, input: In): Promise<Out>;
  undo(context: C, input: In, output: Out | undefined): Promise<void>;
}

interface Pending {
  thing: string;
  description: string;
  undo: () => Promise<void>;
  /** false: expected (`expect`), its step not run yet in this run. */
  reached?: boolean;
}

/** Runs one undo; the order's guard turns a refusal into NEEDS_ATTENTION instead of a failure. */
export type UndoGuard = (description: string, undo: () => Promise<void>) => Promise<void>;

/**
 * The undos of the steps done so far, run last first when the order is cancelled. Each undo is on the
 * stack *before* its step runs, so a step whose outcome is unknown is undone too.
 */
export class Compensations<C> {
  private readonly stack: Pending[] = [];

  constructor(private readonly context: C) {}

  async run<In, Out>(step: Step<C, In, Out>, input: In): Promise<Out> {
    const holder: { output?: Out } = {};
    this.push({ thing: step.thing, description: step.undoSummary, undo: () => step.undo(this.context, input, holder.output), reached: true });
    holder.output = await step.run(this.context, input);
    return holder.output;
  }

  /**
   * Puts a step's undo on the stack before its turn, as not reached; when the step runs it takes that
   * place. Placement expects its holds up front: a workflow task lost after holds were made (a worker
   * died) runs placement again, and a run refused earlier than the lost one got would not know them.
   * No command is issued; `forgetUnreached` takes them off again where they must not be undone.
   */
  expect<In, Out>(step: Step<C, In, Out>, input: In): void {
    if (this.stack.some((pending) => pending.thing === step.thing)) return;
    this.stack.push({ thing: step.thing, description: step.undoSummary, undo: () => step.undo(this.context, input, undefined), reached: false });
  }

  /** Drops the expected undos whose step did not run in this run (a placed order that used no points holds none). */
  forgetUnreached(): void {
    for (let index = this.stack.length - 1; index >= 0; index -= 1) {
      if (this.stack[index].reached === false) this.stack.splice(index, 1);
    }
  }

  /** Registers an undo that is not a step's (e.g. a type's own hold). */
  push(entry: Pending): void {
    const existing = this.stack.find((pending) => pending.thing === entry.thing);
    if (existing) Object.assign(existing, { reached: true }, entry);
    else this.stack.push({ reached: true, ...entry });
  }

  /** Forgets the undo of one thing (it became final, e.g. a forfeited deposit). */
  drop(thing: string): void {
    const index = this.stack.findIndex((pending) => pending.thing === thing);
    if (index >= 0) this.stack.splice(index, 1);
  }

  pending(): string[] {
    return this.stack.map((pending) => pending.description).reverse();
  }

  /** Runs every pending undo, last first, once each, in a scope a workflow cancel cannot interrupt. */
  async compensate(guard: UndoGuard): Promise<string[]> {
    const undone: string[] = [];
    await CancellationScope.nonCancellable(async () => {
      while (this.stack.length > 0) {
        const pending = this.stack[this.stack.length - 1];
        log.info('compensating', { step: pending.description });
        await guard(pending.description, pending.undo);
        this.stack.pop();
        undone.push(pending.description);
      }
    });
    return undone;
  }

  /** The steps are final (after shipment the reservation is consumed): nothing is undone any more. */
  clear(): void {
    this.stack.length = 0;
  }
}
