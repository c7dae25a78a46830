/**
 * A program run as a child process that a test can kill (any signal) and restart, with its
 * output kept for assertions and failure messages. Used to run the operator under test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { WaitAborted, waitFor } from './wait.ts';

export interface ProgramSpec {
  /** Short name used in messages. */
  name: string;
  command: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<ChildProgram>();

// A test process that ends must not leave programs behind.
process.once('exit', () => {
  for (const program of running) program.process?.kill('SIGKILL');
});

export class ChildProgram {
  process: ChildProcess | undefined;
  private lines: string[] = [];
  private partial = '';
  private exit: Promise<ExitInfo> | undefined;
  /** Set once the current run has exited and its output streams are drained. */
  private closed = true;
  /** How many times the program was started. */
  starts = 0;

  constructor(readonly spec: ProgramSpec) {}

  /** Starts the program; it must not be running. Output lines of all starts are kept in order. */
  start(): void {
    if (this.isRunning) throw new Error(`${this.spec.name} is already running`);
    const child = spawn(this.spec.command, this.spec.args ?? [], {
      env: this.spec.env ?? process.env,
      cwd: this.spec.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.starts += 1;
    this.lines.push(`--- ${this.spec.name} start #${this.starts} ---`);
    this.process = child;
    this.closed = false;
    running.add(this);
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.collect(chunk);
      });
    }
    this.exit = (async () => {
      // 'close' comes after 'exit' and after the output streams end: nothing printed is missed.
      const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
      running.delete(this);
      this.flush();
      this.closed = true;
      this.lines.push(`--- ${this.spec.name} exited (code ${String(code)}, signal ${String(signal)}) ---`);
      return { code, signal };
    })();
    child.once('error', (error) => {
      this.lines.push(`--- ${this.spec.name} failed to start: ${error.message} ---`);
    });
  }

  get isRunning(): boolean {
    return !this.closed;
  }

  /** Resolves when the current run ends. */
  async exited(): Promise<ExitInfo> {
    if (this.exit === undefined) throw new Error(`${this.spec.name} was never started`);
    return this.exit;
  }

  /**
   * Sends `signal` and waits for the exit; after `timeoutMs` sends SIGKILL. Returns how it ended.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<ExitInfo> {
    const exit = this.exited();
    if (!this.isRunning) return exit;
    this.process?.kill(signal);
    const timer = setTimeout(() => this.process?.kill('SIGKILL'), timeoutMs);
    try {
      return await exit;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the program with `signal` (default SIGKILL: a crash) and starts it again. */
  async restart(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(signal);
    this.start();
  }

  /** Everything the program printed, all starts, one string. */
  output(): string {
    return [...this.lines, ...(this.partial ? [this.partial] : [])].join('\n');
  }

  /**
   * Waits for an output line of the current start matching `pattern`, and returns it. Fails
   * early, with the output, when the program exits first.
   */
  async waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const marker = `--- ${this.spec.name} start #${this.starts} ---`;
    return waitFor(
      () => {
        const current = this.lines.slice(this.lines.lastIndexOf(marker));
        const line = current.find((l) => pattern.test(l));
        if (line !== undefined) return Promise.resolve({ done: true as const, value: line });
        if (!this.isRunning) throw new WaitAborted(`${this.spec.name} exited; output:\n${this.output()}`);
        return Promise.resolve({ done: false as const, observed: current.slice(-5) });
      },
      { what: `${this.spec.name} to print ${String(pattern)}`, timeoutMs },
    );
  }

  private collect(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
  }

  private flush(): void {
    if (this.partial) this.lines.push(this.partial);
    this.partial = '';
  }
}
