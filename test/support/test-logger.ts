/**
 * A Logger for in-process tests: keeps every line (level, message, fields of the logger and
 * its parents) for assertions, prints nothing.
 */
import { LevelLogger, type LogLevel, type LogMeta, type Logger } from '../../src/runtime/logger.ts';

export interface LogLine {
  level: LogLevel;
  message: string;
  meta: LogMeta;
}

export class TestLogger extends LevelLogger {
  constructor(
    readonly lines: LogLine[] = [],
    private readonly fields: LogMeta = {},
  ) {
    super();
  }

  child(meta: LogMeta): Logger {
    return new TestLogger(this.lines, { ...this.fields, ...meta });
  }

  /** The lines at `level`, as "message {fields}" strings, for readable assertions. */
  at(level: LogLine['level']): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => `${line.message} ${JSON.stringify(line.meta)}`);
  }

  protected write(level: LogLevel, message: string, meta: LogMeta | undefined): void {
    this.lines.push({ level, message, meta: { ...this.fields, ...meta } });
  }
}
