import { waitFor, WaitAborted, waitUntil } from '../../support/wait.ts';

describe('waitFor', () => {
  it('returns the value once the probe is done', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls += 1;
        return Promise.resolve(calls < 3 ? { done: false as const, observed: calls } : { done: true as const, value: 'ready' });
      },
      { what: 'three calls', intervalMs: 1 },
    );
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('names what it awaited and the last observation on timeout', async () => {
    await expect(
      waitUntil(() => Promise.resolve({ phase: 'Pending' }), (pod) => pod.phase === 'Running', {
        what: 'pod p to be Running',
        timeoutMs: 50,
        intervalMs: 5,
      }),
    ).rejects.toThrow(/timed out after 0\.1 s waiting for pod p to be Running; last observed: \{ phase: 'Pending' \}/);
  });

  it('treats a throwing probe as not done and reports its error', async () => {
    await expect(
      waitFor(() => Promise.reject(new Error('connection refused')), { what: 'the server', timeoutMs: 30, intervalMs: 5 }),
    ).rejects.toThrow('last observed: Error: connection refused');
  });

  it('stops at once when the probe aborts', async () => {
    const started = Date.now();
    await expect(
      waitFor(() => Promise.reject(new WaitAborted('program exited')), { what: 'output', timeoutMs: 10_000 }),
    ).rejects.toThrow('program exited');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
