/**
 * The operator's logger: winston, JSON lines in a cluster (one object per line, for log
 * collectors), readable lines on a terminal. Every line carries the fields of the child logger
 * that wrote it (controller, namespace, name, ...).
 */
import winston from 'winston';
import type { OperatorConfig } from './config.ts';
import type { Logger } from './runtime/logger.ts';

export function createLogger(level: OperatorConfig['logLevel'], format: OperatorConfig['logFormat']): Logger {
  const text = format === 'text' || (format === 'auto' && process.stderr.isTTY);
  const lineFormat = text
    ? winston.format.printf(({ timestamp, level: lineLevel, message, stack, ...fields }) => {
        const details = Object.entries(fields)
          .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
          .join(' ');
        const trace = typeof stack === 'string' ? `\n${stack}` : '';
        return `${String(timestamp)} ${lineLevel.toUpperCase().padEnd(5)} ${String(message)}${details ? ` ${details}` : ''}${trace}`;
      })
    : winston.format.json();
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), lineFormat),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
