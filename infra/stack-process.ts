import { rmSync } from 'node:fs';
import { loadConfig } from './config';
import { startDevStack, startTestStack, type Stack } from './stack';
import type { StackMessage } from './stack-child';

/**
 * Runs the servers (PostgreSQL, Temporal) in a process of their own, in a process group of its own
 * (infra/stack-child.ts starts it detached): a Ctrl-C in the terminal reaches the engine, which stops
 * its API, worker and pools first and then asks this process to stop the servers. Without that,
 * PostgreSQL and Temporal would get the terminal's SIGINT at the same moment and vanish under a
 * draining worker. It prints one JSON line per message (log lines, then `ready`) and stops the servers
 * on SIGTERM, or when its stdin closes (the engine or jest died), so nothing is left running.
 *
 *   stack-process dev              `npm start`: persistent data under DATA_DIR, UI, migrations
 *   stack-process test <scratch>   `npm test`: throwaway servers on free ports
 */
const send = (message: StackMessage) => process.stdout.write(JSON.stringify(message) + '\n');

async function main(): Promise<void> {
  const [kind, scratchDir] = process.argv.slice(2);
  const log = (line: string) => send({ log: line });
  let stack: Stack | undefined;
  let stopRequested = false;
  let stopping = false;
  // Asked to stop while still starting (a Ctrl-C during the Temporal CLI build): stop once started.
  const stop = async () => {
    if (!stack) return void (stopRequested = true);
    if (stopping) return;
    stopping = true;
    await stack.stop().catch((error) => log(`stopping the servers failed: ${error}`));
    if (kind === 'test') rmSync(scratchDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  // The engine may be gone (that is why we stop): a log line into its closed pipe must not end us mid-stop.
  process.stdout.on('error', () => undefined);
  // The terminal's Ctrl-C is for the engine, which stops us when its own work is done.
  process.on('SIGINT', () => undefined);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();

  if (kind === 'dev') stack = await startDevStack(loadConfig(), log);
  else if (kind === 'test' && scratchDir) stack = await startTestStack(process.env, scratchDir, () => undefined);
  else throw new Error('usage: stack-process dev | test <scratch-dir>');
  if (stopRequested) return stop();
  const { databaseUrl, adminDatabaseUrl, temporalAddress, temporalUiUrl } = stack;
  send({ ready: { databaseUrl, adminDatabaseUrl, temporalAddress, temporalUiUrl } });
}

main().catch((error) => {
  send({ failed: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
