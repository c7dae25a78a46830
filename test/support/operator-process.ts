/**
 * An operator (or the runtime's demo operator) run as a child process of a test, logging JSON
 * lines, with helpers to wait for a log message and to call its HTTP endpoints.
 */
import path from 'node:path';
import { ChildProgram } from './child-program.ts';
import { REPO_ROOT } from './control-plane.ts';

/** One JSON log line of the operator. */
export interface LogRecord {
  level: string;
  message: string;
  timestamp: string;
  [field: string]: unknown;
}

export interface OperatorProcessOptions {
  /** Names the process in test output. */
  name: string;
  /** The TypeScript entry point, relative to the repository. */
  entry: string;
  kubeconfig: string;
  /** OAAT_* settings and anything else; the HTTP server always binds a free loopback port. */
  env?: Record<string, string>;
}

export class OperatorProcess {
  readonly program: ChildProgram;

  constructor(options: OperatorProcessOptions) {
    this.program = new ChildProgram({
      name: options.name,
      command: process.execPath,
      args: ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', path.join(REPO_ROOT, options.entry)],
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        KUBECONFIG: options.kubeconfig,
        OAAT_LOG_FORMAT: 'json',
        OAAT_LOG_LEVEL: 'debug',
        OAAT_HTTP_ADDRESS: '127.0.0.1:0',
        ...options.env,
      },
    });
  }

  start(): void {
    this.program.start();
  }

  /** Waits (in the current run) for a log line whose message matches, and returns it parsed. */
  async logged(message: string | RegExp, timeoutMs = 30_000): Promise<LogRecord> {
    const pattern = typeof message === 'string' ? new RegExp(`"message":"${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`) : message;
    const line = await this.program.waitForLine(pattern, timeoutMs);
    return JSON.parse(line) as LogRecord;
  }

  /** The port of its probe and metrics server (from its start-up log). */
  async port(): Promise<number> {
    return Number((await this.logged('serving probes and metrics')).port);
  }

  /** GET on its HTTP server. */
  async http(pathname: string): Promise<{ status: number; text: string }> {
    const response = await fetch(`http://127.0.0.1:${String(await this.port())}${pathname}`);
    return { status: response.status, text: await response.text() };
  }

  /** Every message it logged in the current run (for "never did X" assertions). */
  messages(): string[] {
    const output = this.program.output().split('\n');
    const start = output.lastIndexOf(`--- ${this.program.spec.name} start #${String(this.program.starts)} ---`);
    return output.slice(start + 1).flatMap((line) => {
      try {
        return [(JSON.parse(line) as LogRecord).message];
      } catch {
        return [];
      }
    });
  }
}
