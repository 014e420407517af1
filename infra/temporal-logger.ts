import type { LogLevel as TemporalLogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { Logger } from './logger';

const LEVELS: Record<TemporalLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal SDK's logger interface on top of pino. The SDK hands it the workflow logs (`log.info`
 * in workflow code, through its replay-aware sink), the activity logs (`Context.current().log`) and its
 * own and Core's lines, with their context as metadata: sdkComponent, workflowId, runId, workflowType,
 * activityType, activityId, attempt, taskQueue. Replayed workflow lines are dropped by the SDK.
 */
export function temporalLogger(logger: Logger): TemporalLogger {
  const write = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    // The SDK's own info lines (bundler output, state changes) are debug for us: the entry points
    // say when a worker starts and stops; workflow and activity lines keep their level.
    const internal = meta?.sdkComponent === 'worker' || meta?.sdkComponent === 'core';
    const method = internal && level === 'INFO' ? 'debug' : (LEVELS[level] ?? 'info');
    if (!logger.isLevelEnabled(method)) return;
    logger[method]({ ...meta }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
