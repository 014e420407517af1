import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

/**
 * The engine's logs: pino everywhere (API, worker, start script), JSON lines in production for the
 * log pipeline, pretty lines in development for a person at a terminal. LOG_LEVEL is honoured.
 */
export type { Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * Secrets and personal data never reach a log line, whichever code logs them: pino replaces these
 * paths with "[redacted]" before serialising. `*` matches one level, so each key is listed at the
 * top level, one level down and inside pino-http's `req`/`res`.
 */
const SECRET_KEYS = [
  'password',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'jwtSecret',
  'webhookSecret',
  'privateKey',
  'databaseUrl',
  'connectionString',
  // An activity's task token completes it from outside (the SDK puts it on activity log lines).
  'taskToken',
  'phone',
  'mobile',
  'email',
  'idCardNumber',
  'address',
  'shippingAddress',
  'recipientName',
  'cardNumber',
];
const SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-sandbox-signature', 'alipay-signature', 'wechatpay-signature'];

export const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  ...SECRET_HEADERS.flatMap((header) => [`req.headers["${header}"]`, `res.headers["${header}"]`, `headers["${header}"]`]),
];

export interface LoggerSettings {
  level: LogLevel;
  /** json: one JSON object per line (production); pretty: coloured, human-readable (development). */
  format: 'json' | 'pretty';
  /** Where lines go; stdout by default. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
  /** Bound to every line, e.g. { service: 'api' }. */
  base?: Record<string, unknown>;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: settings.base ?? {},
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // `err` keys (pino-http, errors passed as first argument) keep their stack and cause.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (settings.format === 'pretty') {
    // A stream in this thread rather than a transport worker: lines are written in order with the
    // process's other output, and nothing is lost when the process exits at once.
    const stream = pretty({
      colorize: !settings.destination && process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      messageFormat: '{if service}[{service}] {end}{msg}',
      sync: true,
      destination: settings.destination ?? 1,
    });
    return pino(options, stream);
  }
  // Synchronous writes: the last lines before process.exit ("stopped", a fatal start error) are never lost.
  return pino(options, settings.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** Settings from the environment: LOG_LEVEL (default info; warn under jest) and NODE_ENV. */
export function loggerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LoggerSettings {
  const level = (env.LOG_LEVEL || (env.NODE_ENV === 'test' ? 'warn' : 'info')) as LogLevel;
  const format = env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty' ? env.LOG_FORMAT : env.NODE_ENV === 'production' ? 'json' : 'pretty';
  return { level, format };
}

/** The logger of an entry point, from its validated config. */
export function loggerFor(config: { LOG_LEVEL: LogLevel; LOG_FORMAT?: 'json' | 'pretty'; NODE_ENV: string }, service: string): Logger {
  const format = config.LOG_FORMAT ?? (config.NODE_ENV === 'production' ? 'json' : 'pretty');
  return createLogger({ level: config.LOG_LEVEL, format, base: { service } });
}

let processLogger: Logger | undefined;

/** The process's logger, made from the environment on first use; entry points may set it first. */
export function rootLogger(): Logger {
  return (processLogger ??= createLogger(loggerSettingsFromEnv()));
}

export function setRootLogger(logger: Logger): void {
  processLogger = logger;
}
