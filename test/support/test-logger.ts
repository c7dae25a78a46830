/**
 * A Logger for in-process tests: keeps every line (level, message, fields of the logger and
 * its parents) for assertions, prints nothing.
 */
import type { LogMeta, Logger } from '../../src/runtime/logger.ts';

export interface LogLine {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  meta: LogMeta;
}

export class TestLogger implements Logger {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly fields: LogMeta = {},
  ) {}

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

  child(meta: LogMeta): Logger {
    return new TestLogger(this.lines, { ...this.fields, ...meta });
  }

  /** The lines at `level`, as "message {fields}" strings, for readable assertions. */
  at(level: LogLine['level']): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => `${line.message} ${JSON.stringify(line.meta)}`);
  }

  private write(level: LogLine['level'], message: string, meta?: LogMeta): void {
    this.lines.push({ level, message, meta: { ...this.fields, ...meta } });
  }
}
