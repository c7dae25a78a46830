import { StatusDraft, failureCount } from '../../../src/services/group-status.ts';
import { seededRng } from '../../../src/services/rng.ts';

const rng = seededRng(1);
const NOW = Date.parse('2026-11-26T12:00:00Z');
const run = { id: 'r1', item: 'a', podName: 'g-a-xyz-r1', claimedAt: '2026-11-26T11:59:00.000Z' };

describe('StatusDraft', () => {
  it('writes nothing when nothing changed', () => {
    expect(new StatusDraft({ items: { a: { failure_count: 0 } } }).patch()).toBeUndefined();
  });

  it('never changes the status it was read from (the cache\'s own object)', () => {
    const read = { currentRun: run, runSeq: 1, items: { a: { failure_count: '2', last_run: { id: 'r0', outcome: 'Failed' as const, finishedAt: '2026-11-26T11:00:00Z' } } }, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Valid', message: 'ok', lastTransitionTime: '2026-11-26T00:00:00Z' }] };
    const before = JSON.parse(JSON.stringify(read)) as unknown;
    const draft = new StatusDraft(read);
    draft.close({ outcome: 'Succeeded', finishedAt: NOW, runtimeMs: 1_000, podUID: 'u1', exitCode: 0 }, rng, NOW);
    draft.claim({ ...run, id: 'r2', item: 'b' });
    draft.status.conditions?.push({ type: 'Stuck', status: 'False', reason: 'Progressing', message: 'ok', lastTransitionTime: '2026-11-26T12:00:00Z' });
    expect(draft.patch()).toBeDefined();
    expect(read).toEqual(before);
  });

  it('claims: sets the lock, the item start and the handler_status mirror in one patch', () => {
    const draft = new StatusDraft({});
    expect(draft.claim(run)).toEqual({ ...run, seq: 1 });
    expect(draft.patch()).toEqual({
      currentRun: { ...run, seq: 1 },
      runSeq: 1,
      items: { a: { podphase: 'started', last_started: run.claimedAt } },
      handler_status: { state: 'running', currently_running: 'a', pod: run.podName, last_run: run.claimedAt, children: null },
    });
    expect(() => { draft.claim({ ...run, id: 'r2' }); }).toThrow('run r1 is still open');
  });

  it('closes a success: resets failures, records the run and a runtime sample, releases the lock', () => {
    const draft = new StatusDraft({ currentRun: run, items: { a: { failure_count: '2' } } });
    draft.close({ outcome: 'Succeeded', finishedAt: NOW, runtimeMs: 90_000, podUID: 'u1', exitCode: 0 }, rng, NOW);
    const patch = draft.patch() as { currentRun: unknown; items: { a: Record<string, unknown> } };
    expect(patch.currentRun).toBeNull();
    expect(patch.items.a).toMatchObject({
      failure_count: 0,
      last_success: '2026-11-26T12:00:00.000Z',
      podphase: 'Succeeded',
      last_run: { id: 'r1', outcome: 'Succeeded', podUID: 'u1', exitCode: 0, finishedAt: '2026-11-26T12:00:00.000Z' },
      runtime: { count: 1, total: 90, min: 90, max: 90, sample: [90] },
    });
  });

  it.each([
    ['Failed', 1, true],
    ['Deleted', 1, true],
    ['TimedOut', 1, true],
    ['CreateFailed', 1, true],
    ['Lost', 0, false],
  ] as const)('closes %s: failure_count %d, last_failure written: %s', (outcome, failures, failed) => {
    const draft = new StatusDraft({ currentRun: run });
    draft.close({ outcome, finishedAt: NOW }, rng, NOW);
    const item = draft.status.items?.a;
    expect(failureCount(item)).toBe(failures);
    expect(item?.last_failure !== undefined).toBe(failed);
    expect(item?.last_run?.outcome).toBe(outcome);
    expect(draft.status.currentRun).toBeNull();
  });

  it('converts the original runtime strings at the first rewrite and removes them', () => {
    const draft = new StatusDraft({
      currentRun: run,
      items: { a: { runtime_count: '2', runtime_total: '200.0', runtime_sum_squares: '20200.0', runtime_min: '90.0', runtime_max: '110.0', runtime_sample: '[90.0, 110.0]', last_verified: 'x' } },
    });
    draft.close({ outcome: 'Failed', finishedAt: NOW, exitCode: 1 }, rng, NOW);
    const patch = draft.patch() as { items: { a: Record<string, unknown> } };
    expect(patch.items.a).toMatchObject({ runtime_count: null, runtime_sample: null, last_verified: null, runtime: { count: 2, total: 200, min: 90, max: 110 } });
  });

  it('drops the original group-level keys and handler_status.loops', () => {
    const draft = new StatusDraft({ handler_status: { state: 'idle', loops: 5 }, ...({ find_job: 'x', oaat_timer: { message: 'y' } } as object) });
    expect(draft.patch()).toEqual({ find_job: null, oaat_timer: null, handler_status: { loops: null } });
  });

  it('records a result no claim covered without touching the open run', () => {
    const draft = new StatusDraft({ currentRun: run });
    draft.record('b', 'old', { outcome: 'Failed', finishedAt: NOW, exitCode: 3 }, rng, NOW);
    expect(draft.status.currentRun).toEqual(run);
    expect(draft.status.handler_status).toBeUndefined();
    expect(draft.status.items?.b?.last_run).toMatchObject({ id: 'old', outcome: 'Failed', exitCode: 3 });
  });

  it('changes a condition transition time only when its status changes', () => {
    const draft = new StatusDraft({});
    draft.setCondition({ type: 'Ready', status: 'True', reason: 'Valid', message: 'ok' }, NOW);
    const first = new StatusDraft(draft.status);
    first.setCondition({ type: 'Ready', status: 'True', reason: 'Valid', message: 'ok' }, NOW + 60_000);
    expect(first.patch()).toBeUndefined();
    first.setCondition({ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'bad' }, NOW + 60_000);
    expect(first.condition('Ready')).toMatchObject({ status: 'False', lastTransitionTime: '2026-11-26T12:01:00.000Z' });
  });
});
