import { hookClientQuery } from './pg-query-hook';

export interface HeldStatement {
  /** Resolves when the statement was about to be sent and is held. */
  reached: Promise<void>;
  /** Sends it. */
  release(): void;
  /** Unwraps pg's query (afterEach), whether or not the statement came. */
  restore(): void;
}

/**
 * Holds back the first statement whose text matches `pattern`, sent by any pg client of this
 * process (the Client prototype's query is wrapped), until `release()`: a test can stop an
 * operation between two of its round trips and see what others can do meanwhile (which locks it
 * holds). Statements that do not match pass untouched.
 */
export function holdStatement(pattern: RegExp): HeldStatement {
  let reach: () => void = () => undefined;
  let release: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  const restore = hookClientQuery((text, send) => {
    if (held || text === undefined || !pattern.test(text)) return send();
    held = true;
    reach();
    // pg's promise form (no callback) is what our modules use.
    return released.then(send);
  });
  return { reached, release, restore };
}

/** 'done' when `work` settles within `ms`, else 'still waiting' (a lock it waits on is held). */
export async function settlesWithin(ms: number, work: Promise<unknown>): Promise<'done' | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'still waiting'>((resolve) => (timer = setTimeout(() => resolve('still waiting'), ms)));
  try {
    return await Promise.race([work.then(() => 'done' as const), waited]);
  } finally {
    clearTimeout(timer);
  }
}
