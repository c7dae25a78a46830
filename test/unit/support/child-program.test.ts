import { ChildProgram } from '../../support/child-program.ts';

function program(script: string): ChildProgram {
  return new ChildProgram({ name: 'sample', command: process.execPath, args: ['-e', script] });
}

// Prints "ready <pid>", then stays alive until signalled.
const LONG_RUNNING = "console.log('ready', process.pid); setInterval(() => {}, 1000);";

describe('ChildProgram', () => {
  it('waits for a line, kills with the chosen signal and reports how it ended', async () => {
    const p = program(LONG_RUNNING);
    p.start();
    expect(await p.waitForLine(/^ready \d+/)).toMatch(/^ready \d+$/);
    expect(p.isRunning).toBe(true);
    expect(await p.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect(p.isRunning).toBe(false);
  });

  it('restarts as a new process and keeps the output of every start', async () => {
    const p = program(LONG_RUNNING);
    p.start();
    const first = await p.waitForLine(/^ready/);
    await p.restart();
    const second = await p.waitForLine(/^ready/);
    expect(second).not.toEqual(first);
    expect(p.starts).toBe(2);
    expect(p.output()).toContain(first);
    expect(p.output()).toContain('exited (code null, signal SIGKILL)');
    await p.kill('SIGTERM');
  });

  it('fails fast, with the output, when the program exits before printing the line', async () => {
    const p = program("console.error('boom'); process.exit(3);");
    p.start();
    await expect(p.waitForLine(/never/, 20_000)).rejects.toThrow(/sample exited; output:[\s\S]*boom/);
    expect(await p.exited()).toEqual({ code: 3, signal: null });
  });
});
