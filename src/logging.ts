/**
 * The operator's logger: winston, JSON lines in a cluster (one object per line, for log
 * collectors), readable lines on a terminal. Every line carries the fields of the child logger
 * that wrote it (controller, namespace, name, ...).
 */
import winston from 'winston';
import type { OperatorConfig } from './config.ts';
import { LevelLogger, type LogLevel, type LogMeta, type Logger } from './runtime/logger.ts';

/** A logger writing lines of `level` and above to `stream` (default stderr). */
export function createLogger(level: OperatorConfig['logLevel'], format: OperatorConfig['logFormat'], stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr): Logger {
  const text = format === 'text' || (format === 'auto' && stream.isTTY === true);
  const lineFormat = text
    ? winston.format.printf(({ timestamp, level: lineLevel, message, stack, ...fields }) => {
        const details = Object.entries(fields)
          .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
          .join(' ');
        const trace = typeof stack === 'string' ? `\n${stack}` : '';
        return `${String(timestamp)} ${lineLevel.toUpperCase().padEnd(5)} ${String(message)}${details ? ` ${details}` : ''}${trace}`;
      })
    : winston.format.json();
  return new LevelGate(
    winston.createLogger({
      level,
      format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), lineFormat),
      transports: [new winston.transports.Stream({ stream })],
    }),
  );
}

/**
 * Drops lines below the level before winston builds them: winston filters only inside its
 * stream, after a line was assembled and written to it (2% of the operator's CPU in a burst of
 * hand-overs at level `warn`, bench/REPORT.md).
 */
class LevelGate extends LevelLogger {
  constructor(private readonly inner: winston.Logger) {
    super();
  }

  child(meta: LogMeta): Logger {
    return new LevelGate(this.inner.child(meta));
  }

  protected write(level: LogLevel, message: string, meta: LogMeta | undefined): void {
    if (!this.inner.isLevelEnabled(level)) return;
    if (meta === undefined) this.inner.log(level, message);
    else this.inner.log(level, message, meta);
  }
}
