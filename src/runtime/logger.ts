/**
 * The logging interface the runtime writes to: structured messages with metadata, and child
 * loggers that add fields (controller, object key) to every line. winston's Logger satisfies
 * it; the composition root decides the implementation.
 */
export type LogMeta = Record<string, unknown>;

export interface Logger {
  error(message: string, meta?: LogMeta): unknown;
  warn(message: string, meta?: LogMeta): unknown;
  info(message: string, meta?: LogMeta): unknown;
  debug(message: string, meta?: LogMeta): unknown;
  /** A logger that adds `meta` to every line it writes. */
  child(meta: LogMeta): Logger;
}

/** A logger's levels, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** A {@link Logger} whose four levels go to one `write`: implementations say how a line is written and what a child adds. */
export abstract class LevelLogger implements Logger {
  error(message: string, meta?: LogMeta): void {
    this.write('error', message, meta);
  }

  warn(message: string, meta?: LogMeta): void {
    this.write('warn', message, meta);
  }

  info(message: string, meta?: LogMeta): void {
    this.write('info', message, meta);
  }

  debug(message: string, meta?: LogMeta): void {
    this.write('debug', message, meta);
  }

  abstract child(meta: LogMeta): Logger;

  protected abstract write(level: LogLevel, message: string, meta: LogMeta | undefined): void;
}

/** The message and stack of anything thrown, for log metadata. */
export function errorMeta(error: unknown): LogMeta {
  if (error instanceof Error) return { error: error.message, ...(error.stack !== undefined && { stack: error.stack }) };
  return { error: String(error) };
}
