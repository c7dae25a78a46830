/**
 * Chaos episode plans (test/chaos/plan.ts): a seed fixes the workload and the fault schedule,
 * within the profile's bounds, and over many seeds every fault kind is drawn.
 */
import { FAULT_KINDS, planEpisode } from '../../chaos/plan.ts';
import { PROFILES } from '../../chaos/profiles.ts';

const SEEDS = Array.from({ length: 500 }, (_, i) => i + 1);

describe.each(Object.values(PROFILES))('planEpisode, profile $name', (profile) => {
  it('gives the same plan for the same seed, and other plans for other seeds', () => {
    expect(planEpisode(42, profile)).toEqual(planEpisode(42, profile));
    const distinct = new Set(SEEDS.map((seed) => JSON.stringify({ ...planEpisode(seed, profile), seed: 0 })));
    expect(distinct.size).toBe(SEEDS.length);
  });

  it('keeps the workload within its bounds: 1-3 namespaces, 1-4 groups of 1-200 items, known types', () => {
    for (const seed of SEEDS) {
      const plan = planEpisode(seed, profile);
      expect(plan.namespaces.length).toBeGreaterThanOrEqual(1);
      expect(plan.namespaces.length).toBeLessThanOrEqual(3);
      for (const namespace of plan.namespaces) {
        const types = new Set(namespace.types.map((t) => t.name));
        expect(namespace.groups.length).toBeGreaterThanOrEqual(1);
        expect(namespace.groups.length).toBeLessThanOrEqual(4);
        for (const group of namespace.groups) {
          expect(group.items.length).toBeGreaterThanOrEqual(1);
          expect(group.items.length).toBeLessThanOrEqual(200);
          expect(new Set(group.items).size).toBe(group.items.length);
          expect(types.has(group.type)).toBe(true);
        }
        for (const type of namespace.types) {
          expect(type.graceSeconds).toBeLessThanOrEqual(profile.maxGraceSeconds);
          expect(Math.abs(type.skewMs)).toBeLessThanOrEqual(120_000);
          if (type.node === 'kwok') expect(type.skewMs).toBe(0);
        }
      }
    }
  });

  it('schedules one to four faults inside the fault window, in order; a standby is killed only when there is one', () => {
    for (const seed of SEEDS) {
      const plan = planEpisode(seed, profile);
      expect(plan.faults.length).toBeGreaterThanOrEqual(1);
      expect(plan.faults.length).toBeLessThanOrEqual(4);
      const times = plan.faults.map((f) => f.atMs);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      for (const fault of plan.faults) {
        expect(fault.atMs).toBeGreaterThan(0);
        expect(fault.atMs).toBeLessThan(profile.faultWindowMs);
        if (fault.kind === 'kill-standby') expect(plan.replicas).toBe(2);
        if (fault.kind === 'kill-during-create') expect(typeof fault.release).toBe('boolean');
        if (fault.kind === 'write-errors') expect([429, 500, 503, 504]).toContain(fault.code);
      }
    }
  });

  it('draws every fault kind, and both replica counts, over 500 seeds', () => {
    const plans = SEEDS.map((seed) => planEpisode(seed, profile));
    const drawn = new Set(plans.flatMap((plan) => plan.faults.map((f) => f.kind)));
    expect([...FAULT_KINDS].filter((kind) => !drawn.has(kind))).toEqual([]);
    expect(new Set(plans.map((plan) => plan.replicas))).toEqual(new Set([1, 2]));
    expect(plans.some((plan) => plan.namespaces.some((n) => n.types.some((t) => t.node === 'harness')))).toBe(true);
  });
});
