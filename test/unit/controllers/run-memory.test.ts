import type { V1Pod } from '@kubernetes/client-node';
import type { CurrentRun } from '../../../src/api/v1/types.ts';
import { RunMemory } from '../../../src/controllers/run-memory.ts';

const run: CurrentRun = { id: 'r1', item: 'a', podName: 'g-a-r1', claimedAt: '2026-11-30T00:00:00Z', seq: 1 };
const pod = (phase: string): V1Pod => ({ metadata: { namespace: 'ns', name: run.podName, uid: 'u1' }, status: { phase } });

describe('RunMemory: when the run\'s pod was first seen ended', () => {
  it('is the first sighting that shows the pod ended, whichever way it came, and is handed over at the close', () => {
    const memory = new RunMemory(60_000);
    memory.knowledge('ns', run, undefined, 0);
    memory.saw(pod('Running'), true, 100);
    memory.saw(pod('Succeeded'), true, 250);
    memory.saw(pod('Succeeded'), true, 900);
    memory.polled('ns', pod('Succeeded'), 1_000);
    expect(memory.closed('ns', run.podName)).toBe(250);
    // Closed: forgotten.
    expect(memory.closed('ns', run.podName)).toBeUndefined();
  });

  it('counts a pod first seen ended in the cache at a reconcile, or in a live read', () => {
    const fromCache = new RunMemory(60_000);
    fromCache.knowledge('ns', run, pod('Pending'), 10);
    fromCache.knowledge('ns', run, pod('Failed'), 40);
    expect(fromCache.closed('ns', run.podName)).toBe(40);
    const fromRead = new RunMemory(60_000);
    fromRead.polled('ns', pod('Failed'), 70);
    expect(fromRead.closed('ns', run.podName)).toBe(70);
  });

  it('has nothing for a run whose pod it never saw ended, nor for a pod of another run it does not know', () => {
    const memory = new RunMemory(60_000);
    memory.knowledge('ns', run, pod('Running'), 0);
    expect(memory.closed('ns', run.podName)).toBeUndefined();
    memory.saw(pod('Succeeded'), false, 5);
    expect(memory.closed('ns', run.podName)).toBeUndefined();
  });
});

describe('RunMemory: live reads of a pod the cache does not show', () => {
  it('counts them and says when the last one answered, for the planner\'s backoff', () => {
    const memory = new RunMemory(60_000);
    expect(memory.knowledge('ns', run, undefined, 0)).not.toHaveProperty('polledAt');
    memory.polled('ns', pod('Running'), 1_000);
    memory.polled('ns', pod('Running'), 3_000);
    expect(memory.knowledge('ns', run, undefined, 3_500)).toMatchObject({ polls: 2, polledAt: 3_000 });
  });
});
