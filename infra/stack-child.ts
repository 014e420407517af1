import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Stack } from './stack';

/** One line of infra/stack-process.ts's stdout. */
export type StackMessage = { log: string } | { ready: Omit<Stack, 'stop'> } | { failed: string };

export interface StackChildOptions {
  kind: 'dev' | 'test';
  /** For `test`: the folder of the throwaway servers (removed when they stop). */
  scratchDir?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/**
 * Starts the servers in infra/stack-process.ts, detached (its own process group, so the terminal's
 * Ctrl-C does not reach PostgreSQL and Temporal), and resolves once they are ready. `stop()` stops them
 * and waits; if this process dies first, the child sees its stdin close and stops them itself.
 * stderr is shared, so the Temporal CLI build's progress reaches the person waiting.
 */
export function startStackChild(options: StackChildOptions): Promise<Stack> {
  // From source (tsx, ts-jest) the entry is a .ts file run through tsx; compiled, the .js beside this one.
  const compiled = __filename.endsWith('.js');
  const entry = path.join(__dirname, compiled ? 'stack-process.js' : 'stack-process.ts');
  const args = [...(compiled ? [] : ['--import', 'tsx']), entry, options.kind, ...(options.scratchDir ? [options.scratchDir] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', 'pipe', 'inherit'], env: options.env ?? process.env });
  const log = options.log ?? (() => undefined);
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const force = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(force);
  };

  return new Promise((resolve, reject) => {
    let failure = 'the servers failed to start (see the messages above)';
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: StackMessage;
      try {
        message = JSON.parse(line) as StackMessage;
      } catch {
        return log(line);
      }
      if ('log' in message) log(message.log);
      else if ('failed' in message) failure = message.failed;
      else resolve({ ...message.ready, stop });
    });
    child.once('exit', (code) => {
      process.removeListener('exit', killOnExit);
      reject(new Error(`${failure} (exit code ${code})`));
    });
  });
}
