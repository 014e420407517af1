import { rmSync } from 'node:fs';
import { startTestStack } from '../../infra/stack';

/**
 * Runs the test servers (PostgreSQL, Temporal) in a process of their own, started by jest's
 * globalSetup. It prints one JSON line when ready and stops the servers on SIGTERM, or when its
 * stdin closes (jest was killed), so a test run never leaves servers behind.
 */
async function main(): Promise<void> {
  const scratchDir = process.argv[2];
  if (!scratchDir) throw new Error('usage: stack-process <scratch-dir>');
  const log = (line: string) => process.stderr.write(`[test-stack] ${line}\n`);
  const stack = await startTestStack(process.env, scratchDir, () => undefined);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop().catch((error) => log(`stop failed: ${error}`));
    rmSync(scratchDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  process.stdout.write(JSON.stringify({ adminDatabaseUrl: stack.adminDatabaseUrl, temporalAddress: stack.temporalAddress }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`[test-stack] failed: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
