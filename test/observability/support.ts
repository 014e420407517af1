import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../infra/logger';

/** A JSON logger whose lines a test reads back. */
export function capturedLogger(level: 'info' | 'debug' = 'info'): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  /** The first line matching, once written (a request's line is written when its response has finished). */
  line: (match: (entry: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level, format: 'json', destination });
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const line = async (match: (entry: Record<string, unknown>) => boolean) => {
    for (let waited = 0; waited < 5_000; waited += 20) {
      const found = lines().find(match);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no such log line in:\n${chunks.join('')}`);
  };
  return { logger, lines, line };
}

/** Parses Prometheus text into `name{labels}` → value (labels as written, sorted by prom-client). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)/.exec(line);
    if (match) values.set(match[1], Number(match[2]));
  }
  return values;
}
