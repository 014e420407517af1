import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/**
 * An engine entry point (api/main, workers/main) as a real child process, as it runs in production:
 * its own event loop, its own pools, its own signal handling. From source through tsx, or compiled.
 */
export interface EngineProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves once its output matches, rejects if it exits first or the time is up. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  alive(): boolean;
  /** SIGTERM, then waits for the exit (SIGKILL after 30 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export function startEngineProcess(entry: string, env: Record<string, string>, extraArgs: string[] = []): EngineProcess {
  const script = path.resolve(PROJECT_ROOT, entry);
  const args = [...(script.endsWith('.ts') ? ['--import', 'tsx', script] : [script]), ...extraArgs];
  // Only what it needs plus PATH/HOME: a developer's DATABASE_URL or .env must not leak in.
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    printed += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;

  return {
    child,
    output: () => printed,
    alive,
    waitForOutput(pattern, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const done = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (pattern.test(printed)) done();
          else if (!alive()) done(new Error(`${entry} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${printed}`));
        };
        const timer = setTimeout(() => done(new Error(`${entry} did not print ${pattern} within ${timeoutMs} ms:\n${printed}`)), timeoutMs);
        listeners.add(check);
        void exited.then(check);
        check();
      });
    },
    async stop() {
      if (!alive()) return child.exitCode;
      const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.kill('SIGTERM');
      const code = await exited;
      clearTimeout(force);
      return code;
    },
  };
}

/**
 * Output checks that hold whatever the log format (plain lines, or pino's JSON with the message in
 * `msg`): a stack trace shows as `at …` after a newline, raw or escaped inside a JSON string.
 */
export function hasStackTrace(output: string): boolean {
  return /(\n|\\n)\s+at \S/.test(output);
}

/** The non-empty lines that mention `word` as a word. */
export function linesWith(output: string, word: RegExp): string[] {
  return output.split('\n').filter((line) => line.trim() && word.test(line));
}

/** The last non-empty line. */
export function lastLine(output: string): string {
  return output.trimEnd().split('\n').pop() ?? '';
}
