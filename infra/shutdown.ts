/**
 * An orderly stop for a process that starts things (servers, pools, a worker, an HTTP listener): each
 * start registers its stop, and stopping runs them last-started-first, once, on SIGINT/SIGTERM or when
 * the start fails. A failing step is logged in one line and the next still runs; no stack dumps.
 */
export interface Shutdown {
  /** Registers how to stop what was just started. */
  add(name: string, step: () => Promise<unknown> | unknown): void;
  /** Runs every step (once, whoever asks first) and resolves when all are done. */
  stop(reason: string): Promise<void>;
}

/** A repeated Ctrl-C (npm and tsx pass the terminal's on) is the same request, unless it comes later. */
const REPEAT_MEANS_NOW_AFTER_MS = 3_000;

export function orderlyShutdown(log: (line: string) => void, options: { exitOnSignal?: boolean } = {}): Shutdown {
  const steps: { name: string; step: () => Promise<unknown> | unknown }[] = [];
  let stopping: Promise<void> | undefined;
  let signalledAt = 0;

  const stop = (reason: string) =>
    (stopping ??= (async () => {
      log(`${reason}: stopping`);
      for (const { name, step } of steps.reverse()) {
        try {
          await step();
        } catch (error) {
          log(`stopping ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      log('stopped');
    })());

  const onSignal = (signal: NodeJS.Signals) => {
    if (signalledAt && Date.now() - signalledAt > REPEAT_MEANS_NOW_AFTER_MS) {
      log(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    if (signalledAt) return;
    signalledAt = Date.now();
    void stop(signal).then(() => {
      if (options.exitOnSignal !== false) process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  return { add: (name, step) => void steps.push({ name, step }), stop };
}
