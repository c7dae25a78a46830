/**
 * Which pods this process has seen in its cache, by namespace/name. The run protocol creates a
 * run's pod only if it was never observed: a pod that existed and is gone was deleted (or
 * finished and was removed), and must not be created again.
 *
 * Memory is bounded: a sighting is forgotten once its run is closed.
 */
export class PodSightings {
  private readonly seen = new Set<string>();

  saw(namespace: string, name: string): void {
    this.seen.add(`${namespace}/${name}`);
  }

  has(namespace: string, name: string): boolean {
    return this.seen.has(`${namespace}/${name}`);
  }

  forget(namespace: string, name: string): void {
    this.seen.delete(`${namespace}/${name}`);
  }
}
